package store

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing [off, off+n) of f to disk
// without waiting for it (a later fsync then waits only for the rest).
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// openChunkForWrite creates a chunk file for direct I/O, or, where the
// filesystem refuses it (tmpfs on older kernels), for ordinary writes.
func openChunkForWrite(open func(flag int) (*os.File, error)) (f *os.File, direct bool, err error) {
	const flag = os.O_WRONLY | os.O_CREATE | os.O_EXCL | syscall.O_NOFOLLOW
	f, err = open(flag | syscall.O_DIRECT)
	if errors.Is(err, syscall.EINVAL) {
		f, err = open(flag)
		return f, false, err
	}
	return f, err == nil, err
}

// endDirect turns direct I/O off for f's remaining, unaligned writes.
func endDirect(f *os.File) error {
	fd := int(f.Fd())
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^syscall.O_DIRECT)
	return err
}
