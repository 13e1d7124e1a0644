package mount

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"syscall"
	"testing"

	"dfs/core"
)

// TestErrno checks the one place errors become errnos, including the
// cases that go wrong without it: a node's errno deep in a no-node error
// must not leak out, and a long name is ENAMETOOLONG, not EINVAL.
func TestErrno(t *testing.T) {
	s := &fsys{opts: Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	refused := fmt.Errorf("dial: %w", syscall.ECONNREFUSED)
	cases := []struct {
		err  error
		want syscall.Errno
	}{
		{nil, 0},
		{fmt.Errorf("x: %w", core.ErrNotFound), syscall.ENOENT},
		{fmt.Errorf("%w: DFS1: %w", core.ErrNoNode, refused), syscall.EIO},
		{fmt.Errorf("%w: chunk 2", core.ErrUnavailable), syscall.EIO},
		{fmt.Errorf("%w: chunk 2", core.ErrNoSpace), syscall.ENOSPC},
		{fmt.Errorf("DFS2: %w: using 1.0 GiB of 1.0 GiB", core.ErrQuota), syscall.EDQUOT},
		{fmt.Errorf("segment 65536: %w", core.CheckFileSize(core.MaxFileSize+1)), syscall.EFBIG},
		{fmt.Errorf("DFS1: %w: %w", core.ErrBusy, syscall.EAGAIN), syscall.EIO}, // not a retry-at-once EAGAIN
		{fmt.Errorf("%w: component", core.ErrNameTooLong), syscall.ENAMETOOLONG},
		{fmt.Errorf("%w: ..", core.ErrBadName), syscall.EINVAL},
		{core.ErrNotEmpty, syscall.ENOTEMPTY},
		{fmt.Errorf("spool: %w", syscall.ENOSPC), syscall.ENOSPC}, // the local cache disk
		{fmt.Errorf("something new"), syscall.EIO},
		{context.Canceled, syscall.EIO}, // never EINTR: requests are not interrupted
	}
	for _, c := range cases {
		if got := s.errno("op", c.err); got != c.want {
			t.Errorf("errno(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
