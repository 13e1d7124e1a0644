package mount

import (
	"context"
	"dfs/core/client"
	"strings"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// Which version an inode shows.
//
// The kernel keeps one size and one page cache per inode. While the
// attributes it was given are valid (Options.AttrTimeout) it clips reads at
// that size and serves cached pages without asking; once they expired or
// were invalidated it asks (GETATTR) before its next read. Every handle of
// an inode must therefore read the version whose size the kernel holds: a
// reader given another version gets it cut at, or padded with zeros to, the
// size of the one before. File.shown is that version, the one place that
// decides it (and File.whole all of it while handles read it):
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

// told is what the kernel was last told of an inode's attributes. (Times
// are Unix nanoseconds: an inode per name the kernel remembers makes size
// matter.)
type told struct {
	version string // whose: a stored version, or "" for a spool's content
	at      int64  // when
	other   int64  // when it was last told another version's
}

// note records that the kernel is given version's attributes now.
func (k *told) note(version string) {
	if version != k.version {
		k.other, k.version = k.at, version
	}
	k.at = time.Now().UnixNano()
}

// sure reports whether the kernel can hold no attributes but version's:
// it was told none (an inode being created), or two attribute timeouts
// passed since it was told another version's. Its timeout starts when it
// takes an answer, a little after it was noted here, and it drops an
// answer that was overtaken by another one for the inode, so the last
// answer given is not always the one it holds.
func (k *told) sure(version string, ttl time.Duration) bool {
	return k.at == 0 || version == k.version && time.Now().UnixNano()-k.other > int64(2*ttl)
}

// reportLocked fills out with the attributes the inode shows, for the
// kernel.
func (f *File) reportLocked(out *fuse.Attr) {
	f.fillLocked(out)
	v := f.shown.version
	if f.spool != nil {
		v = ""
	}
	f.told.note(v)
}

// adoptLocked makes e, an answer from the nodes, the version the inode
// shows, unless a handle or a spool holds the current one, or e is older
// than it: an answer overtaken by a newer one, or a lookup that found the
// newest version not yet whole and fell back to the one before.
func (f *File) adoptLocked(e client.Entry) {
	if f.readers > 0 || f.spool != nil {
		return
	}
	if e.Stamp < f.shown.stamp && !f.shown.incomplete {
		return
	}
	f.shown = attrsOf(e)
}

// showWholeLocked makes v the version the inode shows, kept whole: handles
// read it.
func (f *File) showWholeLocked(v *client.File) {
	f.shown, f.whole = attrsOf(v.Entry()), v
}

// attrs is what an inode keeps of the version it shows: what stat shows,
// and what tells versions apart. The kernel keeps an inode for every name
// it remembers (100,000 after a find over as many files) and only handles
// need more (the chunks, their hashes and copies: File.whole), so this is
// small. The strings are copies: an entry decoded from a listing shares
// one allocation for all its strings, which a kept substring would keep.
type attrs struct {
	version, stamp      string
	size                int64
	mtime, atime, ctime int64 // Unix nanoseconds
	stored              int64 // bytes its stored segments hold (holes hold none)
	mode                uint32
	uid, gid            uint32
	incomplete          bool // the version lacks a chunk on the nodes that answered
}

func attrsOf(e client.Entry) attrs {
	a := attrs{version: strings.Clone(e.Version), stamp: strings.Clone(e.Stamp), size: e.Size,
		stored: e.Stored(), mode: e.Mode, uid: e.UID, gid: e.GID, incomplete: e.State == client.StateIncomplete}
	a.mtime, a.atime, a.ctime = unixNano(e.MTime), unixNano(e.ATime), unixNano(e.CTime)
	return a
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// apply changes a as c asks.
func (a *attrs) apply(c client.Attrs) {
	if c.Mode != nil {
		a.mode = *c.Mode
	}
	if c.UID != nil {
		a.uid = *c.UID
	}
	if c.GID != nil {
		a.gid = *c.GID
	}
	if c.ATime != nil {
		a.atime = *c.ATime
	}
	if c.MTime != nil {
		a.mtime = *c.MTime
	}
	a.ctime = time.Now().UnixNano()
}

// entry is a as the entry of a file, for fill.
func (a attrs) entry() client.Entry {
	return client.Entry{Size: a.size, Mode: a.mode, UID: a.uid, GID: a.gid, MTime: time.Unix(0, a.mtime),
		ATime: time.Unix(0, a.atime), CTime: time.Unix(0, a.ctime), Version: a.version}
}

// idleLocked lets go of the whole version once no handle reads it and no
// spool holds the file.
func (f *File) idleLocked() {
	if f.readers == 0 && f.spool == nil {
		f.whole = nil
	}
}

// showLocked settles the stored version the inode shows, for a read-only
// open or a new spool's content, and returns it whole: the one open handles
// read, else the newest on the nodes (from a fresh listing of the folder
// when there is one: what stat showed, without a second question). The
// inode has no spool.
func (f *File) showLocked(ctx context.Context, p string) (*client.File, error) {
	ttl := f.sys.opts.AttrTimeout
	if f.readers == 0 || f.whole == nil {
		rf, err := f.sys.store.Open(ctx, p)
		if err != nil {
			return nil, err
		}
		rf.Close()            // read-ahead is for the handles, each reopening it
		f.showWholeLocked(rf) // a handle or a spool will read it
	}
	if f.whole.Entry().Name != p { // renamed by this mount since: the same version, moved
		f.whole = f.whole.Reopen(p)
		f.whole.Close()
	}
	if !f.told.sure(f.whole.Entry().Version, ttl) {
		// Without attributes the kernel asks before it reads (with
		// auto_inval_data before every read call), and Getattr answers
		// from entry while the handle is open. An error leaves nothing
		// to invalidate: the kernel forgot the inode.
		f.EmbeddedInode().NotifyContent(-1, 0)
	}
	return f.whole, nil
}
