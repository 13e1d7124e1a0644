package client

import (
	"context"
	"io"
	"os"
	"time"
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
// r is read twice: once for the MD5 that decides the placement (unless
// opt.MD5 gives it), once to send the chunks.
func (c *Client) Put(ctx context.Context, name string, r io.ReaderAt, size int64, opt PutOptions) (PutResult, error) {
	defer c.cfg.Metrics.putStarted()()
	return c.names.Put(ctx, name, r, size, opt)
}

// Mkdir creates a folder; its parent must exist. It returns the new
// folder's entry.
func (c *Client) Mkdir(ctx context.Context, name string, mode os.FileMode) (Entry, error) {
	return c.names.Mkdir(ctx, name, mode)
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
// nil leaves a field as it is.
func (c *Client) SetAttr(ctx context.Context, name string, mode *os.FileMode, mtime *time.Time) (Entry, error) {
	return c.names.SetAttr(ctx, name, mode, mtime)
}
