package mount

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"dfs/core"
	"dfs/core/client"
)

// Dir is a folder (the top folder too).
type Dir struct {
	node
}

// entrySetter is implemented by Dir and File: take a fresh entry from the
// store and fill out from it.
type entrySetter interface {
	setEntry(e client.Entry, out *fuse.Attr)
}

func (d *Dir) setEntry(e client.Entry, out *fuse.Attr) { d.sys.fill(e, e.Size, 0, out) }

// child returns the path of name inside d.
func (d *Dir) child(name string) (string, syscall.Errno) {
	if len(name) > core.MaxComponent {
		return "", syscall.ENAMETOOLONG
	}
	p, ok := d.path()
	if !ok {
		return "", syscall.ENOENT
	}
	return core.Join(p, name), 0
}

// newChild is child for a name about to be made (create, mkdir, mknod,
// symlink, a rename's target): a path the nodes cannot store is refused
// now, not when the file is stored at close, where the error would be lost
// or come too late.
func (d *Dir) newChild(name string) (string, syscall.Errno) {
	p, errno := d.child(name)
	if errno == 0 && !fitsNodes(p) {
		return "", syscall.ENAMETOOLONG
	}
	return p, errno
}

// adopt returns the inode for child name described by e, reusing the one
// the kernel already knows when the type matches, so that all opens of one
// file share one inode (and its spool).
func (d *Dir) adopt(ctx context.Context, name string, e client.Entry, out *fuse.EntryOut) *fs.Inode {
	if ch := d.GetChild(name); ch != nil && ch.Mode() == stableMode(e) {
		ch.Operations().(entrySetter).setEntry(e, &out.Attr)
		return ch
	}
	var ops fs.InodeEmbedder = &Dir{node: node{sys: d.sys}}
	if !e.Dir {
		ops = &File{node: node{sys: d.sys}}
	}
	ch := d.NewInode(ctx, ops, fs.StableAttr{Mode: stableMode(e)})
	ops.(entrySetter).setEntry(e, &out.Attr)
	return ch
}

// unstoredChild returns the child name if it is a file this mount created
// and has not stored yet.
func (d *Dir) unstoredChild(name string) *File {
	if ch := d.GetChild(name); ch != nil {
		if f, ok := ch.Operations().(*File); ok && f.unstored() {
			return f
		}
	}
	return nil
}

// Lookup finds name in the folder (metadata only, no data).
func (d *Dir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if d.isStatus(name) {
		return d.statusInode(ctx, out), 0
	}
	p, errno := d.child(name)
	if errno != 0 {
		return nil, errno
	}
	if f := d.unstoredChild(name); f != nil {
		f.mu.Lock()
		f.reportLocked(&out.Attr)
		f.mu.Unlock()
		return f.EmbeddedInode(), 0
	}
	e, err := d.sys.store.Stat(ctx, p)
	if err != nil {
		return nil, d.sys.errno("lookup", err)
	}
	return d.adopt(ctx, name, e, out), 0
}

// Getattr stats the folder.
func (d *Dir) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	p, ok := d.path()
	if !ok {
		return syscall.ENOENT
	}
	e, err := d.sys.store.Stat(ctx, p)
	d.sys.fill(e, 0, 0, &out.Attr)
	return d.sys.errno("getattr", err)
}

// Setattr changes the folder's mode or modification time.
func (d *Dir) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if _, ok := in.GetSize(); ok {
		return syscall.EISDIR
	}
	p, _ := d.path()
	mode, mtime := setattrArgs(in)
	e, err := d.sys.store.SetAttr(ctx, p, mode, mtime)
	d.sys.fill(e, 0, 0, &out.Attr)
	return d.sys.errno("setattr", err)
}

// Readdir lists the folder.
func (d *Dir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	p, _ := d.path()
	es, err := d.sys.store.ReadDir(ctx, p)
	list := make([]fuse.DirEntry, 0, len(es))
	seen := make(map[string]bool, len(es))
	for _, e := range es {
		// A copy: go-fuse keeps the name as the child's key, and a
		// substring of a decoded entry would keep all of its strings.
		name := strings.Clone(core.Base(e.Name))
		if d.isStatus(name) {
			continue // a user's file shadowed by the status file
		}
		list = append(list, fuse.DirEntry{Name: name, Mode: stableMode(e)})
		seen[name] = true
	}
	if err == nil {
		for name := range d.Children() {
			if !seen[name] && d.unstoredChild(name) != nil {
				list = append(list, fuse.DirEntry{Name: name, Mode: syscall.S_IFREG})
			}
		}
	}
	return fs.NewListDirStream(list), d.sys.errno("readdir", err)
}

// Fsync (of a folder) asks the nodes to make what they have durable:
// changes of names reach their disks within a fraction of a second anyway.
func (d *Dir) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	return d.sys.errno("fsync", d.sys.store.Sync(ctx))
}

// Mkdir makes a folder.
func (d *Dir) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if errno := d.reserved(name, syscall.EEXIST); errno != 0 {
		return nil, errno
	}
	p, errno := d.newChild(name)
	if errno != 0 {
		return nil, errno
	}
	if _, err := d.sys.store.Mkdir(ctx, p, os.FileMode(mode).Perm()); err != nil {
		return nil, d.sys.errno("mkdir", err)
	}
	return d.adopt(ctx, name, newEntry(p, true, mode), out), 0
}

// Rmdir removes an empty folder.
func (d *Dir) Rmdir(ctx context.Context, name string) syscall.Errno {
	if errno := d.reserved(name, syscall.ENOTDIR); errno != 0 {
		return errno
	}
	p, errno := d.child(name)
	if errno != 0 {
		return errno
	}
	return d.sys.errno("rmdir", d.sys.store.Rmdir(ctx, p))
}

// Unlink removes a file. One this mount created and has not stored is only
// forgotten (its close then stores nothing: the inode has no path).
func (d *Dir) Unlink(ctx context.Context, name string) syscall.Errno {
	if errno := d.reserved(name, syscall.EPERM); errno != 0 {
		return errno
	}
	p, errno := d.child(name)
	if errno != 0 {
		return errno
	}
	if d.unstoredChild(name) != nil {
		return 0
	}
	return d.sys.errno("unlink", d.sys.store.Remove(ctx, p))
}

// renameNoreplace is Linux's RENAME_NOREPLACE, as FUSE passes it.
const renameNoreplace = 1

// Rename moves name to newName in newParent. RENAME_NOREPLACE is checked
// here (not atomically against other clients); RENAME_EXCHANGE is refused.
func (d *Dir) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if d.isStatus(name) || newParent.(*Dir).isStatus(newName) {
		return syscall.EPERM
	}
	from, errno := d.child(name)
	if errno != 0 {
		return errno
	}
	to, errno := newParent.(*Dir).newChild(newName)
	if errno != 0 {
		return errno
	}
	// A file created here and not stored yet is stored first, so that
	// there is something to move.
	if f := d.unstoredChild(name); f != nil {
		f.mu.Lock()
		err := f.putLocked(ctx, false)
		f.mu.Unlock()
		if err != nil {
			return d.sys.errno("rename", err)
		}
	}
	switch flags {
	case 0:
	case renameNoreplace:
		_, err := d.sys.store.Stat(ctx, to)
		if err == nil {
			return syscall.EEXIST
		}
		if !errors.Is(err, core.ErrNotFound) {
			return d.sys.errno("rename", err)
		}
	default:
		return syscall.EINVAL
	}
	return d.sys.errno("rename", d.sys.store.Rename(ctx, from, to))
}

// Create makes a new, empty file and opens it for writing.
func (d *Dir) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if errno := d.reserved(name, syscall.EEXIST); errno != 0 {
		return nil, nil, 0, errno
	}
	p, errno := d.newChild(name)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	f := &File{node: node{sys: d.sys}}
	h, err := f.create(ctx, p, mode, flags)
	if err != nil {
		return nil, nil, 0, d.sys.errno("create", err)
	}
	ch := d.NewInode(ctx, f, fs.StableAttr{Mode: syscall.S_IFREG})
	f.mu.Lock()
	f.reportLocked(&out.Attr)
	f.mu.Unlock()
	return ch, h, createFlags(flags), 0
}

// Link, Symlink and Mknod are refused on purpose: dfs stores only regular
// files and folders. EPERM (not ENOSYS) tells tools like cp -a so.
func (d *Dir) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

// Symlink is refused; see Link.
func (d *Dir) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

// Mknod is refused; see Link.
func (d *Dir) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

// Statfs reports the space the nodes have, counted once per copy.
func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	st, err := n.sys.store.StatFS(ctx)
	const bs = 4096
	*out = fuse.StatfsOut{Blocks: st.Total / bs, Bfree: st.Free / bs, Bavail: st.Free / bs,
		Bsize: bs, Frsize: bs, NameLen: core.MaxComponent}
	return n.sys.errno("statfs", err)
}
