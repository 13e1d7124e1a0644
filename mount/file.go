package mount

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"dfs/core"
	"dfs/core/client"
)

// File is a regular file.
type File struct {
	node

	mu      sync.Mutex   // guards the fields below; held across spool loads and puts
	shown   attrs        // what the inode shows of its version (version.go); kept for fstat after unlink
	whole   *client.File // that version, while handles read it or this mount just stored it (no read-ahead: handles Reopen it)
	told    told         // what the kernel was last told of the inode's attributes
	readers int          // read-only handles reading whole (not a spool)
	spool   *spool       // while open for writing: the content, shared by all handles
	cached  string       // version whose pages the kernel may cache: the last read-only open's; "" after local writes
	fresh   bool         // created by this mount and not stored yet: only this mount knows it
	changed int64        // while the spool is dirty: its last change (Unix ns), the change time stat shows
	born    string       // the file's identity (Entry.Born; its inode number is a hash of it), kept by every version this mount stores
}

// unstored reports a file this mount created and has not stored yet.
func (f *File) unstored() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fresh
}

// setEntry takes e from the nodes (unless the inode holds on to the
// version it shows) and fills out for the kernel.
func (f *File) setEntry(e client.Entry, out *fuse.Attr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.adoptLocked(e)
	f.reportLocked(out)
}

// fillLocked fills out from the cached entry, with the spool's size and
// modification time while one exists.
func (f *File) fillLocked(out *fuse.Attr) {
	e, size, stored := f.shown.entry(), f.shown.size, f.shown.stored
	if sp := f.spool; sp != nil {
		size, stored = sp.size, sp.blocks()
		if sp.dirty {
			e.MTime = sp.mtime
			if f.changed > e.CTime.UnixNano() {
				e.CTime = time.Unix(0, f.changed)
			}
		}
	}
	f.sys.fill(e, size, stored, out)
}

// Getattr stats the file: from the spool while it is open for writing,
// from the version open handles read (see version.go), from the cache once
// it was removed (nlink 0), else from the nodes.
func (f *File) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	p, live := f.path()
	f.mu.Lock()
	if !live || f.spool != nil || f.readers > 0 {
		defer f.mu.Unlock()
		f.reportLocked(&out.Attr)
		if !live {
			out.Nlink = 0
		}
		return 0
	}
	f.mu.Unlock()
	return f.sys.statInto(ctx, p, f, &out.Attr)
}

// Setattr truncates and changes mode, owner, group and times.
func (f *File) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	f.mu.Lock()
	cur := f.shown.entry()
	f.mu.Unlock()
	a, errno := f.sys.attrChange(ctx, in, cur)
	if errno != 0 {
		return errno
	}
	if size, ok := in.GetSize(); ok {
		if err := f.truncate(ctx, int64(min(size, uint64(core.MaxFileSize)+1))); err != nil {
			return f.sys.errno("truncate", err)
		}
	}
	if err := f.setattr(ctx, a); err != nil {
		return f.sys.errno("setattr", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reportLocked(&out.Attr)
	return 0
}

// setattr stores the attributes a changes. While the spool holds unsent
// changes, they go with the put instead (one request for tar's write,
// utimens, chown, chmod, close).
func (f *File) setattr(ctx context.Context, a client.Attrs) error {
	if a == (client.Attrs{}) {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if sp := f.spool; sp != nil && sp.dirty {
		f.shown.apply(a)
		if a.MTime != nil {
			sp.mtime = time.Unix(0, *a.MTime)
		}
		f.changed = time.Now().UnixNano()
		return nil
	}
	p, live := f.path()
	if !live {
		f.shown.apply(a) // what fstat of the removed file shows
		return nil
	}
	e, err := f.sys.store.SetAttrs(ctx, p, a)
	if err != nil {
		return err
	}
	// Only the attributes: the version the inode shows stays (version.go).
	f.shown.mode, f.shown.uid, f.shown.gid = e.Mode, e.UID, e.GID
	f.shown.mtime, f.shown.atime, f.shown.ctime = unixNano(e.MTime), unixNano(e.ATime), unixNano(e.CTime)
	return nil
}

// renamed notes that this mount moved the file: the nodes set its change
// time, which Getattr answers from shown while handles are open.
func (f *File) renamed() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shown.ctime = time.Now().UnixNano()
}

// truncate changes the file's size: in the spool while the file is open
// for writing, else through a temporary spool that is put at once. A size
// past core.MaxFileSize is refused (EFBIG).
func (f *File) truncate(ctx context.Context, size int64) error {
	if err := core.CheckFileSize(size); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.spool != nil {
		return f.truncLocked(ctx, size)
	}
	p, live := f.path()
	if !live {
		return core.ErrNotFound
	}
	sp, err := f.acquireLocked(ctx, p, size == 0)
	if err != nil {
		return err
	}
	defer f.releaseLocked(ctx, sp, false) // a put that failed is the caller's error
	if err := f.truncLocked(ctx, size); err != nil {
		return err
	}
	return f.putLocked(ctx, false)
}

func (f *File) truncLocked(ctx context.Context, size int64) error {
	f.renamedLocked()
	f.changed = time.Now().UnixNano()
	return f.spool.truncate(detach(ctx), size)
}

// renamedLocked makes the spool's base read by the file's current name (it
// may have been renamed since it was opened): a small file's chunks are
// kept with its entry.
func (f *File) renamedLocked() {
	sp := f.spool
	p, live := f.path()
	if !live || sp.base == nil || p == sp.base.Entry().Name {
		return
	}
	moved := sp.base.Reopen(p)
	moved.Close()
	if sp.past == sp.base {
		sp.past = moved
	}
	sp.base = moved
}

// create opens a new file at p for writing, owned by uid and gid, and
// returns the entry its inode is made from. Nothing is stored until its
// first close or fsync (one put for create, write and attributes); until
// then only this mount shows it (see Dir.Lookup and Dir.Readdir), under
// the Born it gets now, so that its inode number is the one every client
// will see. If another client made the file since the kernel looked,
// O_EXCL fails with EEXIST and otherwise the file is opened as it is
// (emptied only for O_TRUNC), never silently replaced.
func (f *File) create(ctx context.Context, p string, mode, flags, uid, gid uint32) (*handle, client.Entry, error) {
	if e, err := f.sys.store.Stat(ctx, p); err == nil {
		if flags&syscall.O_EXCL != 0 {
			return nil, e, core.ErrExist
		}
		if e.Dir {
			return nil, e, core.ErrIsDir
		}
		if e.IsSpecial() { // made by another client since the kernel looked
			return nil, e, core.ErrExist
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.shown, f.born = attrsOf(e), strings.Clone(e.Born)
		sp, err := f.acquireLocked(ctx, p, flags&syscall.O_TRUNC != 0)
		if err != nil {
			return nil, e, err
		}
		return &handle{f: f, sp: sp, append: flags&syscall.O_APPEND != 0}, e, nil
	} else if !errors.Is(err, core.ErrNotFound) {
		return nil, client.Entry{}, err
	}
	e := newEntry(p, false, mode, uid, gid, core.NewVersion())
	sp := f.newSpoolLocked(nil, f.sys.newDraft(p, nil))
	sp.dirty = true // an empty file is still a file to store
	f.shown, f.born, f.spool, f.fresh, sp.refs = attrsOf(e), e.Born, sp, true, 1
	f.changed = e.CTime.UnixNano()
	return &handle{f: f, sp: sp, append: flags&syscall.O_APPEND != 0}, e, nil
}

// emptyFile stores an empty file at p (mknod of a regular file).
func (s *fsys) emptyFile(ctx context.Context, p string, mode, uid, gid uint32) (client.Entry, error) {
	res, err := s.newDraft(p, nil).Commit(detach(ctx), 0,
		client.PutOptions{Mode: os.FileMode(mode), ExactMode: true, UID: uid, GID: gid})
	return res.Entry, err
}
