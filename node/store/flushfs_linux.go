package store

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// quietDiskBytes: with less than this much dirty data in the page cache,
// one syncfs(2) is cheaper than an fsync per small file.
const quietDiskBytes = 64 << 20

// quietDisk reports whether little data waits to be written back
// (/proc/meminfo "Dirty").
func quietDisk() bool {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Dirty:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return err == nil && kb<<10 < quietDiskBytes
		}
	}
	return false
}

// syncFS writes back everything of the filesystem holding f.
func syncFS(f *os.File) error { return unix.Syncfs(int(f.Fd())) }
