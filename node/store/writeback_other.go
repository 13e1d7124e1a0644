//go:build !linux

package store

import (
	"os"
	"syscall"
)

// startWriteback does nothing where sync_file_range(2) is missing: the
// flush writes everything.
func startWriteback(f *os.File, off, n int64) {}

// openChunkForWrite creates a chunk file for ordinary writes: direct I/O is
// Linux's.
func openChunkForWrite(open func(flag int) (*os.File, error)) (*os.File, bool, error) {
	f, err := open(os.O_WRONLY | os.O_CREATE | os.O_EXCL | syscall.O_NOFOLLOW)
	return f, false, err
}

func endDirect(f *os.File) error { return nil }
