package client

import (
	"context"
	"io"
	"os"
	"time"

	"dfs/core/wire"
)

// The namespace operations. Each goes through the listing cache
// (listcache.go), which answers from a fresh listing when it is on and
// writes the client's own changes into the listings; with it off (the
// default) each asks the nodes.

// CacheListings keeps the answers of listings and lookups for ttl and
// serves Stat, ReadDir and Open from them, as the kernel keeps entries for
// its entry timeout; 0 turns it off. The mount turns it on with its entry
// timeout; dfc leaves it off, so each command sees the nodes as they are.
func (c *Client) CacheListings(ttl time.Duration) { c.names.ttlNS.Store(int64(max(ttl, 0))) }

// Stat returns the merged entry for name. It fails with ErrNotFound when the
// entry (or a folder above it) does not exist on the nodes that answered, and
// with ErrNoNode when none answered. A file caught between the two waves of
// a commit is asked for again.
func (c *Client) Stat(ctx context.Context, name string) (Entry, error) {
	return c.names.Stat(ctx, name)
}

// ReadDir returns the live entries directly inside dir, sorted by name.
func (c *Client) ReadDir(ctx context.Context, dir string) ([]Entry, error) {
	return c.names.ReadDir(ctx, dir)
}

// Put stores size bytes of r as a new version of name. Every chunk goes to
// both nodes the placement table names; the version is committed when every
// chunk has at least one copy (reduced redundancy is reported in the result),
// and otherwise nothing is committed and any earlier version stays current.
// r is read once, a segment at a time; each segment's chunks are stored
// encrypted, and the MD5 of those decides their placement (sealed.go).
func (c *Client) Put(ctx context.Context, name string, r io.ReaderAt, size int64, opt PutOptions) (PutResult, error) {
	defer c.cfg.Metrics.putStarted()()
	return c.names.Put(ctx, name, r, size, opt)
}

// Mkdir creates a folder owned by this process's uid and gid; its parent
// must exist. It returns the new folder's entry.
func (c *Client) Mkdir(ctx context.Context, name string, mode os.FileMode) (Entry, error) {
	uid, gid := ownIDs()
	return c.names.Mkdir(ctx, name, unixPerm(mode), uid, gid)
}

// MkdirAs creates a folder with mode's 12 permission bits (wire.ModePerm;
// the rest is ignored), owned by uid and gid; its parent must exist.
func (c *Client) MkdirAs(ctx context.Context, name string, mode, uid, gid uint32) (Entry, error) {
	return c.names.Mkdir(ctx, name, mode&wire.ModePerm, uid, gid)
}

// Symlink creates a symbolic link at name pointing to target (1 to
// wire.MaxTarget bytes, no NUL; stored as given, never followed by the
// nodes), owned by uid and gid, mode 0777. It fails with ErrExist when name
// exists.
func (c *Client) Symlink(ctx context.Context, name, target string, uid, gid uint32) (Entry, error) {
	return c.special(ctx, name, wire.ModeSymlink|0o777, target, uid, gid)
}

// Mknod creates a FIFO or a socket's name at name, owned by uid and gid:
// mode holds the type (wire.ModeFIFO or wire.ModeSocket) and the permission
// bits. Other types (devices, files, folders) fail with
// errors.ErrUnsupported. It fails with ErrExist when name exists.
func (c *Client) Mknod(ctx context.Context, name string, mode, uid, gid uint32) (Entry, error) {
	return c.special(ctx, name, mode, "", uid, gid)
}

// Remove deletes a file from every node that answers, leaving tombstones so
// that a node that was down does not bring it back.
func (c *Client) Remove(ctx context.Context, name string) error {
	return c.names.Remove(ctx, name)
}

// Rmdir removes an empty folder. Its emptiness is checked across every node
// that answers, never from a cached listing.
func (c *Client) Rmdir(ctx context.Context, name string) error {
	return c.names.Rmdir(ctx, name)
}

// Rename moves a file or folder, replacing a file (or an empty folder, for a
// folder) at the destination, as rename(2) does.
func (c *Client) Rename(ctx context.Context, from, to string) error {
	return c.names.Rename(ctx, from, to)
}

// SetAttr changes the mode and/or modification time of a file or folder;
// nil leaves a field as it is. It is SetAttrs for those two.
func (c *Client) SetAttr(ctx context.Context, name string, mode *os.FileMode, mtime *time.Time) (Entry, error) {
	var a Attrs
	if mode != nil {
		m := unixPerm(*mode)
		a.Mode = &m
	}
	if mtime != nil {
		t := mtime.UnixNano()
		a.MTime = &t
	}
	return c.names.SetAttr(ctx, name, a)
}

// SetAttrs changes the attributes a sets of an entry (file, folder or
// special entry) and sets its change time to now: every node gets the
// whole new attribute set under a new stamp. The top folder's attributes
// are fixed (it has no meta): its entry is returned as it is.
func (c *Client) SetAttrs(ctx context.Context, name string, a Attrs) (Entry, error) {
	return c.names.SetAttr(ctx, name, a)
}
