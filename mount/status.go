package mount

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// StatusName is the read-only file at the top of every mount that shows the
// mount's Health, so that someone who only uses the mount can see whether
// the cluster is whole: `cat MOUNTPOINT/.dfs-status`.
//
// Decisions, as README.md says them: it is not listed by readdir (ls -a,
// cp -r, tar, rsync and du do not meet a file that changes on every read),
// but open, stat and cat find it. It cannot be written, truncated,
// removed, renamed or replaced (EACCES to open it for writing, EPERM for the
// rest; EEXIST to create it). A user's own file of that name in the top
// folder stays on the nodes, shadowed: the mount neither lists nor opens
// it, and `dfc get .dfs-status` reads it. Deeper folders have no status
// file: the name is an ordinary one there.
const StatusName = ".dfs-status"

// statusIno is the status file's inode number, far above the ones go-fuse
// hands out, so that every lookup returns the same inode.
const statusIno = 1<<63 - 2

// statusFile is the status file.
type statusFile struct {
	fs.Inode
	sys *fsys
}

// isStatus reports whether name in d is the status file.
func (d *Dir) isStatus(name string) bool { return name == StatusName && d.IsRoot() }

// statusInode returns the status file's inode for a lookup.
func (d *Dir) statusInode(ctx context.Context, out *fuse.EntryOut) *fs.Inode {
	f := &statusFile{sys: d.sys}
	f.attr(&out.Attr)
	// A zero timeout: the size changes with every rendering.
	out.SetEntryTimeout(0)
	out.SetAttrTimeout(0)
	return d.NewInode(ctx, f, fs.StableAttr{Mode: syscall.S_IFREG, Ino: statusIno})
}

// reserved is the errno for changing the status file's name in d, or 0
// when name is not the status file: EEXIST for making it, EPERM for
// removing, renaming or replacing it.
func (d *Dir) reserved(name string, errno syscall.Errno) syscall.Errno {
	if d.isStatus(name) {
		return errno
	}
	return 0
}

func (f *statusFile) attr(out *fuse.Attr) {
	now := f.sys.started
	out.Mode = syscall.S_IFREG | 0o444
	out.Nlink = 1
	out.Size = uint64(len(f.sys.opts.Health.Status()))
	out.Owner = fuse.Owner{Uid: f.sys.uid, Gid: f.sys.gid}
	out.SetTimes(&now, &now, &now)
}

// Getattr reports a read-only file the size of a rendering now.
func (f *statusFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	f.attr(&out.Attr)
	out.SetTimeout(0)
	return 0
}

// Setattr refuses every change (chmod, truncate, touch).
func (f *statusFile) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EPERM
}

// statusHandle is one open of the status file: the rendering at open, so
// that reads in pieces see one consistent text.
type statusHandle struct{ text []byte }

// Open renders the status for reading; writing is refused, even to root
// (who would pass the mode bits).
func (f *statusFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC|syscall.O_APPEND) != 0 {
		return nil, 0, syscall.EACCES
	}
	// Direct I/O: the kernel reads to the end whatever size stat gave.
	return &statusHandle{text: f.sys.opts.Health.Status()}, fuse.FOPEN_DIRECT_IO, 0
}

// Read serves the rendering taken at open.
func (f *statusFile) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h, ok := fh.(*statusHandle)
	if !ok {
		return nil, syscall.EBADF
	}
	if off >= int64(len(h.text)) {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(dest)), int64(len(h.text)))
	return fuse.ReadResultData(h.text[off:end]), 0
}
