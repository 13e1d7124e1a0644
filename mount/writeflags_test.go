package mount

import (
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

func TestWriteFlags(t *testing.T) {
	for _, c := range []struct {
		flags uint32
		fresh bool
		want  uint32
	}{
		{syscall.O_WRONLY, true, fuse.FOPEN_DIRECT_IO},
		{syscall.O_WRONLY | syscall.O_TRUNC, true, fuse.FOPEN_DIRECT_IO},
		{syscall.O_WRONLY | syscall.O_TRUNC, false, 0},  // an existing file: cached pages may be there
		{syscall.O_WRONLY | syscall.O_APPEND, false, 0}, // cached pages may be there
		{syscall.O_WRONLY, false, 0},
		{syscall.O_RDWR | syscall.O_TRUNC, false, 0}, // reads (and mmap) use the cache
		{syscall.O_RDWR, true, 0},
	} {
		if got := writeFlags(c.flags, c.fresh); got != c.want {
			t.Errorf("writeFlags(%#o, %v) = %#x, want %#x", c.flags, c.fresh, got, c.want)
		}
	}
}
