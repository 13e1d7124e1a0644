//go:build linux

package mount

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"dfs/internal/testcluster"
)

// rewriteSizes are the sizes the rewriter cycles through: small (inline,
// one exchange per node) and large (chunk files, two commit waves) in
// turn, so that each version is cut short or overlong at the previous
// one's size if a read mixes them.
var rewriteSizes = []int{20 << 10, 2<<20 + 4321, 30<<10 + 5, 1<<20 + 17, 40 << 10, 3<<19 + 3}

// rewriteHeader is how many leading bytes state a version's size.
const rewriteHeader = 8

// rewriteContents holds each size's content: the size in decimal, then
// bytes drawn from a generator seeded with the size, none of them zero,
// so that a zero-filled page, a version cut short and a page of another
// version all show.
var rewriteContents = sync.OnceValue(func() map[int][]byte {
	m := map[int][]byte{}
	for _, size := range rewriteSizes {
		b := make([]byte, size)
		r := rand.NewChaCha8([32]byte{byte(size), byte(size >> 8), byte(size >> 16)})
		r.Read(b)
		for i := range b {
			if b[i] == 0 {
				b[i] = 1
			}
		}
		copy(b, fmt.Sprintf("%0*d", rewriteHeader, size))
		m[size] = b
	}
	return m
})

// checkWhole returns nil if got is one whole version.
func checkWhole(got []byte, _ []int) error {
	if len(got) < rewriteHeader {
		return fmt.Errorf("%d bytes, shorter than the header", len(got))
	}
	size, err := strconv.Atoi(string(got[:rewriteHeader]))
	want := rewriteContents()[size]
	if err != nil || want == nil {
		return fmt.Errorf("%d bytes, header %q is no version's", len(got), got[:rewriteHeader])
	}
	if len(got) != size {
		if len(got) < size && bytes.Equal(got, want[:len(got)]) {
			return fmt.Errorf("the %d-byte version cut short at %d bytes", size, len(got))
		}
		return fmt.Errorf("%d bytes, header says %d", len(got), size)
	}
	if !bytes.Equal(got, want) {
		i := firstDiff(got, want)
		return fmt.Errorf("the %d-byte version differs from offset %d (%s)", size, i, zeroNote(got[i:]))
	}
	return nil
}

// checkPieces returns nil if every piece of got is that piece of some
// version, the pieces being cut at 4 KiB pages and where one read(2) ended
// and the next began. A reader on the writer's own mount sees the file
// between the writer's truncate and its last write, as on a local disk:
// shorter, or with the old version's pages before the new one's, or, from
// one read call to the next, another version. It never sees bytes no
// version had (zeros).
func checkPieces(got []byte, ends []int) error {
	const page = 4 << 10
	for off := 0; off < len(got); {
		end := min((off/page+1)*page, len(got))
		for _, e := range ends {
			if e > off && e < end {
				end = e
			}
		}
		if !someVersionHas(got[off:end], off) {
			return fmt.Errorf("%d bytes: bytes %d-%d are no version's (%s)", len(got), off, end, zeroNote(got[off:end]))
		}
		off = end
	}
	return nil
}

func someVersionHas(piece []byte, off int) bool {
	for _, want := range rewriteContents() {
		if len(want) >= off+len(piece) && bytes.Equal(piece, want[off:off+len(piece)]) {
			return true
		}
	}
	return false
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

func zeroNote(b []byte) string {
	if len(bytes.Trim(b, "\x00")) == 0 {
		return "all zero"
	}
	return "other bytes"
}

// rewriteRace rewrites one file through writeMP (one write, then close, as
// cp or an editor does), cycling through rewriteSizes, while readers open
// and read it whole through readMP in a loop, for the given time. check
// judges each read. Every error and bad read fails the test (the first few
// are shown). It returns how often a reader saw another version than in
// its read before.
func rewriteRace(t *testing.T, writeMP, readMP, name string, readers int, d time.Duration, check func([]byte, []int) error) int64 {
	t.Helper()
	contents := rewriteContents()
	wp, rp := filepath.Join(writeMP, name), filepath.Join(readMP, name)
	if err := os.WriteFile(wp, contents[rewriteSizes[0]], 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the reader's mount does not see the file", func() error {
		_, err := os.Stat(rp)
		return err
	})
	var (
		stop          atomic.Bool
		reads, writes atomic.Int64
		changes       atomic.Int64
		bad, failed   atomic.Int64
		mu            sync.Mutex
		report        []string
		wg            sync.WaitGroup
	)
	note := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(report) < 10 {
			report = append(report, fmt.Sprintf(format, args...))
		}
	}
	wg.Go(func() {
		for i := 1; !stop.Load(); i++ {
			if err := os.WriteFile(wp, contents[rewriteSizes[i%len(rewriteSizes)]], 0o644); err != nil {
				failed.Add(1)
				note("write %d: %v", i, err)
				continue
			}
			writes.Add(1)
		}
	})
	for range readers {
		wg.Go(func() {
			last := 0
			for !stop.Load() {
				got, ends, err := readWhole(rp)
				reads.Add(1)
				switch {
				case err != nil:
					failed.Add(1)
					note("read: %v", err)
				case check(got, ends) != nil:
					bad.Add(1)
					note("torn read: %v", check(got, ends))
				case len(got) != last:
					changes.Add(1)
					last = len(got)
				}
			}
		})
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d rewrites, %d reads (%d changes of version): %d torn, %d errors", writes.Load(), reads.Load(), changes.Load(), bad.Load(), failed.Load())
	if bad.Load() > 0 || failed.Load() > 0 {
		t.Errorf("%d of %d reads torn and %d reads or writes failed during %d rewrites; the first:\n%s",
			bad.Load(), reads.Load(), failed.Load(), writes.Load(), joinLines(report))
	}
	// Once the writer is done, the reader's mount shows the last version
	// whole (nothing wrong stayed in its page cache).
	last := contents[rewriteSizes[writes.Load()%int64(len(rewriteSizes))]]
	eventually(t, 5*time.Second, "the last version after the rewrites", func() error {
		got, err := os.ReadFile(rp)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, last) {
			return errors.Join(fmt.Errorf("not the last version (%d bytes)", len(last)), checkWhole(got, nil))
		}
		return nil
	})
	return changes.Load()
}

// readWhole reads the file at p, as os.ReadFile does, and returns where
// each read(2) ended. It makes raw system calls: the race detector's
// accounting of every byte a read(2) fills costs more than the read itself,
// and these reads are many.
func readWhole(p string) ([]byte, []int, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 1<<20)
	var ends []int
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		free := buf[len(buf):cap(buf)]
		n, _, errno := unix.Syscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&free[0])), uintptr(len(free)))
		if errno != 0 {
			return buf, ends, errno
		}
		if n == 0 {
			return buf, ends, nil
		}
		buf = buf[:len(buf)+int(n)]
		ends = append(ends, len(buf))
	}
}

func joinLines(lines []string) string {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// TestReadersDuringRewrites: while one mount rewrites a file over and
// over, alternating small and large versions, readers that open and read
// it whole on another mount get one whole version each time, old or new:
// never the new one cut at the old one's size (the kernel clips reads at
// the size it holds for the inode), never an error (a lookup that lands
// between the two commit waves). Readers on the writer's own mount may see
// the file mid-write, as on a local disk, but never bytes no version had.
// Short attribute and entry timeouts make the reading mount move to a newer
// version every few reads.
func TestReadersDuringRewrites(t *testing.T) {
	c := testcluster.Start(t)
	opts := testOptions(t)
	opts.AttrTimeout, opts.EntryTimeout = 100*time.Millisecond, 100*time.Millisecond
	a := mountOptsT(t, c.Client(t, "alice", "Crimson33"), opts)
	b := mountOptsT(t, c.Client(t, "alice", "Crimson33"), opts)
	t.Run("other mount", func(t *testing.T) {
		if n := rewriteRace(t, a, b, "other", 2, 8*time.Second, checkWhole); n < 10 {
			t.Errorf("the readers saw %d changes of version: the reading mount does not move on", n)
		}
	})
	t.Run("own mount", func(t *testing.T) {
		rewriteRace(t, a, a, "own", 2, 5*time.Second, checkPieces)
	})
}
