package mount

import (
	"context"
	"strings"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"dfs/core/client"
	"dfs/core/wire"
)

// Special is a symbolic link, a FIFO or a socket's name: an entry with
// attributes and (a symlink) a target, but no content of its own. The
// kernel opens FIFOs and sockets itself, locally: what one process writes
// into a FIFO on the mount reaches a reader on the same machine only, as
// on NFS.
type Special struct {
	node

	mu     sync.Mutex // guards target
	target string     // a symlink's target, as last reported (a symlink's target never changes)
}

func (s *Special) setEntry(e client.Entry, out *fuse.Attr) {
	s.mu.Lock()
	if e.Target != "" {
		s.target = strings.Clone(e.Target)
	}
	s.mu.Unlock()
	s.sys.fill(e, e.Size, 0, out)
}

// Getattr stats the entry.
func (s *Special) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	p, ok := s.path()
	if !ok {
		return syscall.ENOENT
	}
	return s.sys.statInto(ctx, p, s, &out.Attr)
}

// Setattr changes owner, group, times (lchown, lutimes) or, for a FIFO or
// socket, the mode.
func (s *Special) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if _, ok := in.GetSize(); ok {
		return syscall.EINVAL
	}
	p, ok := s.path()
	if !ok {
		return syscall.ENOENT
	}
	e, errno := s.sys.setattr(ctx, p, in, nil)
	if errno != 0 {
		return errno
	}
	s.setEntry(e, &out.Attr)
	return 0
}

// Readlink returns a symlink's target.
func (s *Special) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	s.mu.Lock()
	t := s.target
	s.mu.Unlock()
	if t != "" {
		return []byte(t), 0
	}
	p, ok := s.path()
	if !ok {
		return nil, syscall.ENOENT
	}
	e, err := s.sys.store.Stat(ctx, p)
	if err != nil {
		return nil, s.sys.errno("readlink", err)
	}
	if !e.IsSymlink() {
		return nil, syscall.EINVAL
	}
	var out fuse.Attr
	s.setEntry(e, &out)
	return []byte(e.Target), 0
}

// Symlink makes a symbolic link to target, stored as given (relative,
// absolute or dangling: the nodes never follow it).
func (d *Dir) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if errno := d.reserved(name, syscall.EEXIST); errno != 0 {
		return nil, errno
	}
	p, errno := d.newChild(name)
	if errno != 0 {
		return nil, errno
	}
	uid, gid, _ := d.owner(ctx)
	e, err := d.sys.store.Symlink(ctx, p, target, uid, gid)
	if err != nil {
		return nil, d.sys.errno("symlink", err)
	}
	return d.adopt(ctx, name, e, out), 0
}

// Mknod makes a FIFO, a socket's name, or an empty regular file. Devices
// are EPERM: a device number means something only on the machine that
// made it.
func (d *Dir) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if errno := d.reserved(name, syscall.EEXIST); errno != 0 {
		return nil, errno
	}
	p, errno := d.newChild(name)
	if errno != 0 {
		return nil, errno
	}
	uid, gid, _ := d.owner(ctx)
	var e client.Entry
	var err error
	switch mode & syscall.S_IFMT {
	case syscall.S_IFIFO, syscall.S_IFSOCK:
		e, err = d.sys.store.Mknod(ctx, p, mode&(wire.ModeType|wire.ModePerm), uid, gid)
	case 0, syscall.S_IFREG:
		e, err = d.sys.emptyFile(ctx, p, mode&wire.ModePerm, uid, gid)
	default:
		return nil, syscall.EPERM
	}
	if err != nil {
		return nil, d.sys.errno("mknod", err)
	}
	return d.adopt(ctx, name, e, out), 0
}
