package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// checkMountpoint says, before anything is started, why a mount at
// f.mountpoint would fail: fusermount3 and the kernel only answer "exited
// with code 1" or EINVAL, and a regular file as the mountpoint even
// mounts, leaving a dead mount behind. A stale dfs mount ("transport
// endpoint is not connected") passes: serve cleans it up.
func checkMountpoint(f flags) error {
	mp := f.mountpoint
	st, err := os.Stat(mp)
	switch {
	case errors.Is(err, syscall.ENOTCONN):
		return checkFuse(f)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("mountpoint %s does not exist: make the folder first (mkdir -p %s)", mp, mp)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("mountpoint %s: permission denied (a folder above it is not searchable for you)", mp)
	case err != nil:
		return fmt.Errorf("mountpoint %s: %w", mp, err)
	case !st.IsDir():
		return fmt.Errorf("mountpoint %s is a %s, not a folder: dfs mounts only on a folder", mp, kindOf(st.Mode()))
	}
	if m, ok := mountedAt(mp); ok {
		return fmt.Errorf("%s is already mounted (%s from %s): unmount it first (fusermount3 -u %s)", mp, m.fstype, m.source, mp)
	}
	return checkFuse(f)
}

// kindOf names a file type for the message about a mountpoint that is no
// folder.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "file"
}

// mountInfo is one line of /proc/self/mountinfo.
type mountInfo struct {
	point, fstype, source string
}

// mountFailed explains an error of mount.Mount and makes sure the failure
// leaves nothing mounted.
func mountFailed(f flags, err error) error {
	if _, serr := os.Stat(f.mountpoint); errors.Is(serr, syscall.ENOTCONN) {
		detach(f.mountpoint)
	}
	msg := fmt.Sprintf("mount %s: %v", f.mountpoint, err)
	if strings.Contains(err.Error(), "fusermount") {
		// fusermount3 said why on its stderr: the terminal in the
		// foreground, dfsmount.log in the background.
		msg += " (fusermount3 printed the reason above" + logHint(f) + ")"
	}
	return errors.New(strings.TrimSpace(msg))
}

func logHint(f flags) string {
	if f.foreground {
		return ""
	}
	return ", or in " + logPath(f)
}
