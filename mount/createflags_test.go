package mount

import (
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

func TestCreateFlags(t *testing.T) {
	for _, c := range []struct {
		flags uint32
		want  uint32
	}{
		{syscall.O_WRONLY, fuse.FOPEN_DIRECT_IO},
		{syscall.O_WRONLY | syscall.O_TRUNC, fuse.FOPEN_DIRECT_IO},
		{syscall.O_WRONLY | syscall.O_EXCL, fuse.FOPEN_DIRECT_IO},
		{syscall.O_RDWR, 0},                   // reads (and mmap) use the cache
		{syscall.O_RDWR | syscall.O_TRUNC, 0}, // likewise
	} {
		if got := createFlags(c.flags); got != c.want {
			t.Errorf("createFlags(%#o) = %#x, want %#x", c.flags, got, c.want)
		}
	}
}
