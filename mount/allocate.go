package mount

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"

	"dfs/core"
)

// fallocate(2) modes the mount takes (linux/falloc.h).
const fallocKeepSize = 0x01 // FALLOC_FL_KEEP_SIZE

// Allocate is fallocate(2). The nodes have nothing to reserve ahead: space
// is taken when a segment is stored, and a range never written is a hole,
// which costs nothing. So mode 0 only makes the file at least off+size
// long (the new range reads zeros, as fallocate promises), and
// FALLOC_FL_KEEP_SIZE has nothing to do. Punching holes, zeroing and
// collapsing ranges are EOPNOTSUPP, which tools take as "not here" and
// fall back from (cp, tar, rsync write the zeros instead).
func (f *File) Allocate(ctx context.Context, fh fs.FileHandle, off, size uint64, mode uint32) syscall.Errno {
	switch mode {
	case 0:
		end := off + size
		if end < off || end > 1<<62 {
			return syscall.EFBIG
		}
		return f.sys.errno("fallocate", f.extend(ctx, int64(end)))
	case fallocKeepSize:
		return 0
	default:
		return syscall.EOPNOTSUPP
	}
}

// extend makes the file at least size bytes long: a hole at its end, in
// the spool while the file is open for writing, else stored at once.
func (f *File) extend(ctx context.Context, size int64) error {
	if err := core.CheckFileSize(size); err != nil {
		return err // EFBIG, before anything changes
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.spool != nil {
		if size <= f.spool.size {
			return nil
		}
		return f.truncLocked(ctx, size)
	}
	p, live := f.path()
	if !live {
		return core.ErrNotFound
	}
	sp, err := f.acquireLocked(ctx, p, false)
	if err != nil {
		return err
	}
	defer f.releaseLocked(ctx, sp, false)
	if size <= sp.size {
		return nil
	}
	if err := f.truncLocked(ctx, size); err != nil {
		return err
	}
	return f.putLocked(ctx, false)
}
