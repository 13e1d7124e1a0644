package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// mountedAt finds a mount whose mount point is mp. An autofs mount does
// not count: systemd's automount (x-systemd.automount in fstab) mounts
// the real file system on top of it.
func mountedAt(mp string) (mountInfo, bool) {
	file, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return mountInfo{}, false
	}
	defer file.Close()
	var found mountInfo
	ok := false
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, s := range fields {
			if s == "-" && i >= 6 {
				sep = i
				break
			}
		}
		if sep < 0 || len(fields) < sep+3 || unescapeMount(fields[4]) != mp {
			continue
		}
		m := mountInfo{point: mp, fstype: fields[sep+1], source: unescapeMount(fields[sep+2])}
		// The last one listed is the one on top.
		found, ok = m, m.fstype != "autofs"
	}
	return found, ok
}

// unescapeMount undoes the kernel's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// checkFuse checks what the mount needs from this machine: /dev/fuse
// openable by this user (fusermount3 opens it as the caller too), and for
// a user other than root fusermount3, write access to the mountpoint, and
// user_allow_other in /etc/fuse.conf for allow_other.
func checkFuse(f flags) error {
	dev, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("/dev/fuse does not exist: load the fuse module (modprobe fuse), or give the container the device (docker run --device /dev/fuse)")
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("cannot open /dev/fuse: permission denied (it is normally crw-rw-rw-; check its mode, your groups, or the container's device rules)")
	case err != nil:
		return fmt.Errorf("cannot open /dev/fuse: %w", err)
	}
	dev.Close()
	if os.Geteuid() == 0 {
		return nil
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		if _, err2 := exec.LookPath("fusermount"); err2 != nil {
			return fmt.Errorf("fusermount3 not found: install FUSE 3 (apt-get install fuse3)")
		}
	}
	if err := unix.Access(f.mountpoint, unix.W_OK); err != nil {
		return fmt.Errorf("mountpoint %s is not writable for you: fusermount3 mounts only on a folder you can write to", f.mountpoint)
	}
	if f.allowOther && !userAllowOther() {
		return fmt.Errorf("-o allow_other needs user_allow_other in /etc/fuse.conf for a user other than root")
	}
	return nil
}

// userAllowOther reports whether /etc/fuse.conf has user_allow_other.
func userAllowOther() bool {
	b, err := os.ReadFile("/etc/fuse.conf")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "user_allow_other" {
			return true
		}
	}
	return false
}
