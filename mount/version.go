package mount

import (
	"context"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"dfs/core"
)

// Which version an inode shows.
//
// The kernel keeps one size and one page cache per inode. While the
// attributes it was given are valid (Options.AttrTimeout) it clips reads at
// that size and serves cached pages without asking; once they expired or
// were invalidated it asks (GETATTR) before its next read. Every handle of
// an inode must therefore read the version whose size the kernel holds: a
// reader given another version gets it cut at, or padded with zeros to, the
// size of the one before. File.entry is that version, the one place that
// decides it:
//
//   - While the inode has a spool, the spool is what it shows (handle.go).
//   - While a read-only handle is open, entry changes only to a version this
//     mount stores (the kernel holds the written size and pages then):
//     attributes are answered from entry, and later opens read it too. All
//     handles share one version because the page cache is per inode: two
//     versions in one inode mix. A newer version on the nodes shows at the
//     first open after all handles closed.
//   - With no handle open, attributes reported to the kernel (LOOKUP,
//     GETATTR) come from the nodes and entry follows them. A read-only open
//     reads entry when the kernel was told of it within the attribute
//     timeout (what stat showed is what is read, with no second question to
//     the nodes), else the newest version on the nodes.
//   - When the kernel may hold the attributes of another version than the
//     one an open settles on, the open invalidates them, so that the kernel
//     asks again, and gets entry's, before it reads.

// told is what the kernel was last told of an inode's attributes.
type told struct {
	version string    // whose: a stored version, or "" for a spool's content
	at      time.Time // when
	other   time.Time // when it was last told another version's
}

// note records that the kernel is given version's attributes now.
func (k *told) note(version string) {
	if version != k.version {
		k.other, k.version = k.at, version
	}
	k.at = time.Now()
}

// fresh reports whether the kernel was told version's attributes within
// ttl, so that it still holds them.
func (k *told) fresh(version string, ttl time.Duration) bool {
	return version != "" && version == k.version && time.Since(k.at) < ttl
}

// sure reports whether the kernel can hold no attributes but version's:
// it was told none (an inode being created), or two attribute timeouts
// passed since it was told another version's. Its timeout starts when it
// takes an answer, a little after it was noted here, and it drops an
// answer that was overtaken by another one for the inode, so the last
// answer given is not always the one it holds.
func (k *told) sure(version string, ttl time.Duration) bool {
	return k.at.IsZero() || version == k.version && time.Since(k.other) > 2*ttl
}

// reportLocked fills out with the attributes the inode shows, for the
// kernel.
func (f *File) reportLocked(out *fuse.Attr) {
	f.fillLocked(out)
	v := f.entry.Version
	if f.spool != nil {
		v = ""
	}
	f.told.note(v)
}

// adoptLocked makes e, an answer from the nodes, the version the inode
// shows, unless a handle or a spool holds the current one, or e is older
// than it: an answer overtaken by a newer one, or a lookup that found the
// newest version not yet whole and fell back to the one before.
func (f *File) adoptLocked(e core.Entry) {
	if f.readers > 0 || f.spool != nil {
		return
	}
	if e.Stamp < f.entry.Stamp && f.entry.State != core.StateIncomplete {
		return
	}
	f.entry = e
}

// showLocked settles the stored version the inode shows, for a read-only
// open or a new spool's content, and returns it: the one open handles read,
// or the one the kernel holds the attributes of, else the newest on the
// nodes. The inode has no spool.
func (f *File) showLocked(ctx context.Context, p string) (core.Entry, error) {
	ttl := f.sys.opts.AttrTimeout
	f.entry.Name = p // renamed by this mount since: the same version, moved
	if f.readers == 0 && !(f.told.fresh(f.entry.Version, ttl) && f.entry.State != core.StateIncomplete) {
		rf, err := f.sys.store.Open(ctx, p)
		if err != nil {
			return core.Entry{}, err
		}
		rf.Close()
		f.adoptLocked(rf.Entry())
	}
	if !f.told.sure(f.entry.Version, ttl) {
		// Without attributes the kernel asks before it reads (with
		// auto_inval_data before every read call), and Getattr answers
		// from entry while the handle is open. An error leaves nothing
		// to invalidate: the kernel forgot the inode.
		f.EmbeddedInode().NotifyContent(-1, 0)
	}
	return f.entry, nil
}
