package mount

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"dfs/core"
	"dfs/core/client"
)

// handle is one open file description.
type handle struct {
	f        *File
	rf       *client.File // for a read-only open without a spool: the version the inode shows (version.go)
	sp       *spool       // the inode's spool this handle holds a reference on
	append   bool         // O_APPEND: writes go to the spool's end
	readOnly bool         // opened for reading: its close stores nothing
	direct   bool         // O_DIRECT: its reads bypass the kernel's page cache and size
}

// Open opens the file. Opens for writing, and any open while the inode has
// a spool, share the spool; read-only opens otherwise read the version the
// inode shows (version.go), keeping the kernel's page cache when it is the
// version read last time.
func (f *File) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	h, fuseFlags, err := f.open(ctx, flags)
	return h, fuseFlags, f.sys.errno("open", err)
}

func (f *File) open(ctx context.Context, flags uint32) (*handle, uint32, error) {
	p, live := f.path()
	if !live {
		return nil, 0, core.ErrNotFound
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY || f.spool != nil {
		sp, err := f.acquireLocked(ctx, p, flags&syscall.O_TRUNC != 0)
		if err != nil {
			return nil, 0, err
		}
		// An existing file keeps the page cache (see createFlags).
		return &handle{f: f, sp: sp, append: flags&syscall.O_APPEND != 0,
			readOnly: flags&syscall.O_ACCMODE == syscall.O_RDONLY, direct: flags&oDirect != 0}, 0, nil
	}
	v, err := f.showLocked(ctx, p)
	if err != nil {
		return nil, 0, err
	}
	rf := v.Reopen(p)
	var keep uint32
	if version := rf.Entry().Version; version == f.cached {
		keep = fuse.FOPEN_KEEP_CACHE
	} else {
		f.cached = version
	}
	f.readers++
	return &handle{f: f, rf: rf, readOnly: true, direct: flags&oDirect != 0}, keep, nil
}

// createFlags returns the FUSE open flags for a handle Create made with
// flags: a write-only handle on a file it creates (cp, dd, tar, editors
// saving through a new file) gets direct I/O, so the kernel hands the
// writer's pages to the spool instead of first copying them into its page
// cache for this file, which nobody reads from a write-only handle and
// which measured a third of the CPU of writing a large file. The kernel's
// cache for a new file holds nothing.
//
// Opening an existing file, even with O_TRUNC, keeps the page cache: the
// kernel passes O_TRUNC on to a FUSE filesystem only when it negotiated
// atomic_o_trunc, which go-fuse does not, so OPEN arrives without it and
// a SETATTR to size 0 follows; at OPEN the file still has its contents and
// the kernel may cache them.
func createFlags(flags uint32) uint32 {
	if flags&syscall.O_ACCMODE == syscall.O_WRONLY {
		return fuse.FOPEN_DIRECT_IO
	}
	return 0
}

// acquireLocked returns the inode's spool with one more reference, making
// it when needed: empty for trunc, else holding the version the inode shows
// (nothing of it is fetched until a write needs a segment of it).
func (f *File) acquireLocked(ctx context.Context, p string, trunc bool) (*spool, error) {
	if f.spool == nil {
		var v *client.File
		if !trunc {
			var err error
			if v, err = f.showLocked(ctx, p); err != nil {
				return nil, err
			}
		}
		f.cached = "" // local writes go through the page cache: do not keep it
		f.spool = f.newSpoolLocked(v, f.sys.newDraft(p, v))
	}
	if trunc {
		if err := f.truncLocked(ctx, 0); err != nil {
			return nil, err
		}
	}
	f.spool.refs++
	return f.spool, nil
}

// releaseLocked drops a reference on sp and the spool with the last one.
// Changes the spool still holds then are put first when put is set:
// the kernel sends RELEASE after close(2) has returned (and its FLUSH
// stored the file), so a truncate(2) by name or a write through a shared
// mapping can land in between, with no FLUSH after it. Only what cannot be
// stored is dropped, with a warning (its FLUSH already reported the error);
// a file created here that was never stored is then forgotten, so that the
// name is free again (a cp retried once the user is under quota creates
// it anew rather than opening a file no node has).
func (f *File) releaseLocked(ctx context.Context, sp *spool, put bool) {
	sp.refs--
	if sp.refs > 0 {
		return
	}
	var err error
	if sp.dirty && put {
		err = f.putLocked(ctx, false)
	}
	sp.drainLocked()
	if sp.refs > 0 {
		// Opened again while the put or the drain waited for uploads
		// (f.mu released): the new handle holds the spool now.
		return
	}
	if sp.dirty {
		p, _ := f.path()
		f.sys.opts.Log.Warn("dfs: dropping changes that could not be stored", "file", p, "err", err)
		f.cached = ""
		if f.fresh {
			f.fresh = false
			// Not under f.mu: the kernel takes the folder's lock for it,
			// which a lookup of the name may hold while it waits for f.mu.
			if name, parent := f.EmbeddedInode().Parent(); parent != nil {
				go parent.NotifyEntry(name)
			}
		}
	}
	sp.close(detach(ctx))
	if f.spool == sp {
		f.spool = nil
	}
	f.idleLocked()
}

// putLocked stores the spool as a new version if it changed: the dirty
// segments are put (waiting for those in flight, with f.mu released), then
// the draft is committed; with sync the version is on the nodes' disks
// when it returns. A file removed meanwhile has nowhere to go: its changes
// are dropped. A failed commit leaves the draft done: the spool gets a
// fresh one on its base, and the retry is armed (checkpoint.go); a failed
// put armed it already.
func (f *File) putLocked(ctx context.Context, sync bool) error {
	sp := f.spool
	if sp == nil || !sp.dirty {
		return nil
	}
	if _, live := f.path(); !live {
		sp.dirty = false
		return nil
	}
	if err := sp.flushLocked(); err != nil {
		return err
	}
	p, live := f.path()
	if !sp.dirty || !live { // stored by another handle's close, or removed, while waiting
		sp.dirty = sp.dirty && live
		return nil
	}
	if sp.draft.Name() != p {
		sp.draft.Rename(p)
	}
	res, err := sp.draft.Commit(detach(ctx), sp.size, f.putOptionsLocked(sync))
	if err != nil {
		sp.redraft(f.sys.newDraft(p, sp.base))
		if sp.failed == nil {
			sp.failed = err // no background put until the retry
		}
		f.retryLocked(sp)
		return err
	}
	f.fresh = false
	f.showPutLocked(ctx, p, res)
	base := res.File
	if base == nil && f.whole != nil {
		// Another commit won: the file is that version now, and the
		// spool holds it (the kernel's pages of ours are dropped). Ours
		// is not current: its segments are not there to build on.
		base = f.whole
		sp.size = base.Entry().Size
		f.EmbeddedInode().NotifyContent(-1, 0)
	}
	sp.rebase(base, f.sys.newDraft(p, base))
	return nil
}

// putOptionsLocked are the attributes the next version is stored with:
// those the inode shows (the mode as given, 0 included), the spool's
// modification time, and the file's Born, so that its inode number stays.
func (f *File) putOptionsLocked(sync bool) client.PutOptions {
	o := client.PutOptions{Mode: os.FileMode(f.shown.mode), ExactMode: true, UID: f.shown.uid, GID: f.shown.gid,
		MTime: f.spool.mtime, Born: f.born, Sync: sync}
	if f.shown.atime > 0 {
		o.ATime = time.Unix(0, f.shown.atime)
	}
	return o
}

// showPutLocked makes the version just put the one the inode shows: the
// kernel holds its size and pages, written through this mount. When a
// newer commit from another client won over it, the inode shows that one,
// and the kernel is told of it before it reads (version.go).
func (f *File) showPutLocked(ctx context.Context, p string, res client.PutResult) {
	if res.File != nil { // our version is the one committed
		f.showWholeLocked(res.File)
		f.told.note(res.Version)
		return
	}
	if v, err := f.sys.store.Open(ctx, p); err == nil {
		v.Close()
		f.showWholeLocked(v)
	}
	f.told.note("")
}

// Read reads from the spool while the inode has one, else from the version
// the inode shows. Reads are short only at the end of the file.
func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.read(ctx, dest, off)
	if errno := h.f.sys.errno("read", err); errno != 0 {
		// No result with an error: go-fuse (DisableSplice) would send the
		// result's status, OK, and the kernel would take the empty read
		// for the end of the file and shrink it there.
		return nil, errno
	}
	return fuse.ReadResultData(dest[:n]), 0
}

func (h *handle) read(ctx context.Context, dest []byte, off int64) (int, error) {
	f := h.f
	f.mu.Lock()
	if sp := f.spool; sp != nil {
		defer f.mu.Unlock()
		f.renamedLocked()
		if off >= sp.size && !h.direct {
			// The kernel asked before it learned of a shrink: it reads
			// through its page cache only below the size it holds.
			return sp.readPast(detach(ctx), dest, off)
		}
		return sp.readAt(detach(ctx), dest, off)
	}
	if h.rf != nil && f.whole != nil && h.rf.Entry().Version != f.whole.Entry().Version {
		// This mount stored a newer version since the handle was opened
		// (through another fd): the kernel's size and pages are that
		// one's now, so read it, as a local disk would.
		p, live := f.path()
		if !live {
			p = f.whole.Entry().Name
		}
		rf := f.whole.Reopen(p)
		old := h.rf
		h.rf = rf
		old.Close() // a read still on it finishes without read-ahead
	}
	rf := h.rf
	f.mu.Unlock()
	if rf == nil {
		return 0, syscall.EBADF
	}
	n, err := rf.ReadAtContext(detach(ctx), dest, off) // not interrupted either (see uninterruptible)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	if err != nil {
		n = 0 // never hand out part of a failed read
	}
	return n, err
}

// Write writes into the spool (at its end for O_APPEND).
func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	n, err := h.write(ctx, data, off)
	return uint32(n), h.f.sys.errno("write", err)
}

func (h *handle) write(ctx context.Context, data []byte, off int64) (int, error) {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if h.sp == nil {
		return 0, syscall.EBADF
	}
	h.f.renamedLocked()
	h.f.changed = time.Now().UnixNano()
	if h.append {
		off = h.sp.size
	}
	if err := h.sp.takeCheckpointErr(); err != nil {
		return 0, err
	}
	return h.sp.writeAt(detach(ctx), data, off, h.append)
}

// Flush (every close) puts the spool if it changed, so that a failed
// put fails close(2) and cp reports it. A handle opened for reading
// stores nothing: what the spool holds then may be another handle's write
// half done (a reader's close stored it as a version of its own); the
// writer's close stores it, or the last release does (releaseLocked).
func (h *handle) Flush(ctx context.Context) syscall.Errno {
	if h.readOnly {
		return 0
	}
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	err := h.f.putLocked(ctx, false)
	if h.sp != nil {
		err = firstErr(h.sp.takeCheckpointErr(), err)
	}
	return h.f.sys.errno("flush", err)
}

// Fsync stores the spool if it changed, on the nodes' disks before it
// returns; otherwise it asks the nodes to make what they have durable (an
// earlier close stored the file without waiting for the disks).
func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	var err error
	if h.sp != nil && h.sp.dirty {
		err = h.f.putLocked(ctx, true)
	} else {
		err = h.f.sys.store.Sync(ctx)
	}
	if h.sp != nil {
		err = firstErr(h.sp.takeCheckpointErr(), err)
	}
	return h.f.sys.errno("fsync", err)
}

// Release drops the handle's reference on the spool, or closes the version
// it was reading.
func (h *handle) Release(ctx context.Context) syscall.Errno {
	if h.rf != nil {
		h.rf.Close()
	}
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if h.rf != nil {
		h.f.readers--
	}
	if h.sp != nil {
		h.f.releaseLocked(ctx, h.sp, true)
	}
	h.f.idleLocked()
	return 0
}
