package mount

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// bdiReadAheadPath is the sysfs file of the kernel's read-ahead for the
// filesystem mounted at mountpoint.
func bdiReadAheadPath(mountpoint string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(mountpoint, &st); err != nil {
		return "", err
	}
	return fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev)), nil
}

// raiseReadAhead sets the kernel's read-ahead for the mount at mountpoint
// to kb KiB. The kernel starts every FUSE mount at 128 KiB whatever the
// filesystem asks for, so a sequential reader's requests come 128 KiB at a
// time; only root may raise it.
func raiseReadAhead(mountpoint string, kb int) error {
	p, err := bdiReadAheadPath(mountpoint)
	if err != nil {
		return err
	}
	return os.WriteFile(p, []byte(strconv.Itoa(kb)), 0)
}
