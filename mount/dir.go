package mount

import (
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"dfs/core"
	"dfs/core/client"
	"dfs/core/crypt"
	"dfs/core/wire"
)

// Dir is a folder (the top folder too).
type Dir struct {
	node

	mu  sync.Mutex // guards gid and mode
	gid uint32     // the group and mode last reported: what a new entry inside inherits when the
	// mode has setgid (a lookup or getattr always came before the kernel creates inside)
	mode uint32
}

// entrySetter is implemented by Dir and File: take a fresh entry from the
// store and fill out from it.
type entrySetter interface {
	setEntry(e client.Entry, out *fuse.Attr)
}

func (d *Dir) setEntry(e client.Entry, out *fuse.Attr) {
	if d.IsRoot() {
		d.sys.fillTop(out)
		return
	}
	d.mu.Lock()
	d.gid, d.mode = e.GID, e.Mode
	d.mu.Unlock()
	d.sys.fill(e, e.Size, 0, out)
}

// owner returns the owner and group an entry d's caller makes inside d
// gets, and the setgid bit a folder made inside gets: the caller's uid, and
// its group unless d has setgid, whose group and bit are inherited (as on
// a local disk; the kernel leaves it to the file system).
func (d *Dir) owner(ctx context.Context) (uid, gid, setgid uint32) {
	c := d.sys.caller(ctx)
	if d.IsRoot() {
		return c.Uid, c.Gid, 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mode&syscall.S_ISGID != 0 {
		return c.Uid, d.gid, syscall.S_ISGID
	}
	return c.Uid, c.Gid, 0
}

// child returns the path of name inside d.
func (d *Dir) child(name string) (string, syscall.Errno) {
	if len(name) > crypt.MaxName { // the longest the nodes store encrypted
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
	if ch := d.GetChild(name); ch != nil && ch.Mode() == typeOf(e) && ch.StableAttr().Ino == e.Ino() {
		ch.Operations().(entrySetter).setEntry(e, &out.Attr)
		return ch
	}
	var ops fs.InodeEmbedder
	switch {
	case e.Dir:
		ops = &Dir{node: node{sys: d.sys}}
	case e.IsSpecial():
		ops = &Special{node: node{sys: d.sys}}
	default:
		ops = &File{node: node{sys: d.sys}, born: strings.Clone(e.Born)}
	}
	ch := d.sys.newInode(ctx, d.EmbeddedInode(), ops, e)
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
	if p == "" {
		d.sys.fillTop(&out.Attr)
		return 0
	}
	return d.sys.statInto(ctx, p, d, &out.Attr)
}

// statInto asks for the entry at p and gives it to the inode's setter,
// which fills out: what GETATTR of a file, folder or special entry does
// when the nodes are to answer.
func (s *fsys) statInto(ctx context.Context, p string, to entrySetter, out *fuse.Attr) syscall.Errno {
	e, err := s.store.Stat(ctx, p)
	if err != nil {
		return s.errno("getattr", err)
	}
	to.setEntry(e, out)
	return 0
}

// Setattr changes the folder's mode, owner, group or times. The top
// folder's are fixed (it has no meta): a change is EPERM, not a silent
// success.
func (d *Dir) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if _, ok := in.GetSize(); ok {
		return syscall.EISDIR
	}
	p, ok := d.path()
	if !ok {
		return syscall.ENOENT
	}
	if p == "" {
		return syscall.EPERM
	}
	e, err := d.sys.setattr(ctx, p, in, nil)
	if err != 0 {
		return err
	}
	d.setEntry(e, &out.Attr)
	return 0
}

// setattr applies a SETATTR to the entry at p (cur: its entry, nil to ask
// the nodes) and returns the entry as changed.
func (s *fsys) setattr(ctx context.Context, p string, in *fuse.SetAttrIn, cur *client.Entry) (client.Entry, syscall.Errno) {
	if cur == nil {
		e, err := s.store.Stat(ctx, p)
		if err != nil {
			return e, s.errno("setattr", err)
		}
		cur = &e
	}
	a, errno := s.attrChange(ctx, in, *cur)
	if errno != 0 {
		return *cur, errno
	}
	if a == (client.Attrs{}) {
		return *cur, 0
	}
	e, err := s.store.SetAttrs(ctx, p, a)
	return e, s.errno("setattr", err)
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
		list = append(list, fuse.DirEntry{Name: name, Mode: typeOf(e), Ino: e.Ino()})
		seen[name] = true
	}
	if err == nil {
		for name := range d.Children() {
			if !seen[name] && d.unstoredChild(name) != nil {
				ch := d.GetChild(name)
				list = append(list, fuse.DirEntry{Name: name, Mode: syscall.S_IFREG, Ino: ch.StableAttr().Ino})
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
	uid, gid, setgid := d.owner(ctx)
	e, err := d.sys.store.MkdirAs(ctx, p, mode&wire.ModePerm|setgid, uid, gid)
	if err != nil {
		return nil, d.sys.errno("mkdir", err)
	}
	return d.adopt(ctx, name, e, out), 0
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

// Linux's rename flags, as FUSE passes them.
const (
	renameNoreplace = 1 // RENAME_NOREPLACE
	renameExchange  = 2 // RENAME_EXCHANGE
)

// Rename moves name to newName in newParent. RENAME_NOREPLACE is checked
// here (not atomically against other clients). RENAME_EXCHANGE (and
// RENAME_WHITEOUT) is EINVAL, what Linux file systems that cannot swap two
// names answer: the nodes move one name at a time, and a swap made of
// three moves would show a missing name to every other client in between.
func (d *Dir) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	np := newParent.(*Dir)
	if d.isStatus(name) || np.isStatus(newName) {
		return syscall.EPERM
	}
	if flags&^renameNoreplace != 0 {
		return syscall.EINVAL
	}
	from, errno := d.child(name)
	if errno != 0 {
		return errno
	}
	to, errno := np.newChild(newName)
	if errno != 0 {
		return errno
	}
	if flags == renameNoreplace {
		if np.unstoredChild(newName) != nil {
			return syscall.EEXIST
		}
		_, err := d.sys.store.Stat(ctx, to)
		if err == nil {
			return syscall.EEXIST
		}
		if !errors.Is(err, core.ErrNotFound) {
			return d.sys.errno("rename", err)
		}
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
	if err := d.sys.store.Rename(ctx, from, to); err != nil {
		return d.sys.errno("rename", err)
	}
	if ch := d.GetChild(name); ch != nil {
		if f, ok := ch.Operations().(*File); ok {
			f.renamed() // its change time, which a handle's fstat shows without asking the nodes
		}
	}
	return 0
}

// Create makes a new, empty file and opens it for writing. Its mode is the
// one the kernel passes (the caller's umask applied), 0 included.
func (d *Dir) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if errno := d.reserved(name, syscall.EEXIST); errno != 0 {
		return nil, nil, 0, errno
	}
	p, errno := d.newChild(name)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	uid, gid, _ := d.owner(ctx)
	f := &File{node: node{sys: d.sys}}
	h, e, err := f.create(ctx, p, mode&wire.ModePerm, flags, uid, gid)
	if err != nil {
		return nil, nil, 0, d.sys.errno("create", err)
	}
	ch := d.sys.newInode(ctx, d.EmbeddedInode(), f, e)
	f.mu.Lock()
	f.reportLocked(&out.Attr)
	f.mu.Unlock()
	return ch, h, createFlags(flags), 0
}

// Link is refused: an entry of dfs is its path, and a second name for it
// would need an inode table shared by the nodes. EPERM (not ENOSYS) is
// what link(2) answers on file systems without hard links (FAT), and what
// cp -a, rsync -H and tar take as "copy instead".
func (d *Dir) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

// Statfs reports the space the nodes have, counted once per copy.
func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	st, err := n.sys.store.StatFS(ctx)
	const bs = 4096
	*out = fuse.StatfsOut{Blocks: st.Total / bs, Bfree: st.Free / bs, Bavail: st.Free / bs,
		Bsize: bs, Frsize: bs, NameLen: crypt.MaxName}
	return n.sys.errno("statfs", err)
}
