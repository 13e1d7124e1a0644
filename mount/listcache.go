package mount

import (
	"context"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"dfs/core"
)

// listCache serves Stat from the last listing of the parent folder while it
// is younger than the entry timeout, so that `ls -l` of a folder costs one
// LIST instead of one lookup per file. Any change made through this mount
// invalidates every listing (gen), so the mount always sees its own
// changes; other clients' changes show within the timeout, as they would
// through the kernel's own entry cache.
type listCache struct {
	Store
	ttl time.Duration
	gen atomic.Uint64 // bumped before and after every change

	mu   sync.Mutex // guards dirs
	dirs map[string]*listing
}

type listing struct {
	gen     uint64
	at      time.Time
	ttl     time.Duration
	entries map[string]core.Entry
	hits    atomic.Int64 // lookups served: a folder being walked is listed again rather than looked up name by name
}

// busyListing is how many lookups a listing must have served to be listed
// again when it expires, instead of each later name costing a lookup.
const busyListing = 16

const maxCachedDirs = 64

func newListCache(s Store, ttl time.Duration) *listCache {
	return &listCache{Store: s, ttl: ttl, dirs: map[string]*listing{}}
}

// ReadDir lists dir and remembers the result.
func (c *listCache) ReadDir(ctx context.Context, dir string) ([]core.Entry, error) {
	gen := c.gen.Load()
	start := time.Now()
	es, err := c.Store.ReadDir(ctx, dir)
	if err != nil {
		return es, err
	}
	// Counted from when the answer arrived, and kept at least as long as
	// the LIST took: a large folder's LIST can take longer than the timeout
	// itself, and its entries are then served while the caller (ls -l)
	// goes through them, instead of listing the folder again and again.
	at := time.Now()
	ttl := max(c.ttl, at.Sub(start))
	m := make(map[string]core.Entry, len(es))
	for _, e := range es {
		m[e.Name] = e
	}
	c.mu.Lock()
	if len(c.dirs) >= maxCachedDirs {
		clear(c.dirs)
	}
	c.dirs[dir] = &listing{gen: gen, at: at, ttl: ttl, entries: m}
	c.mu.Unlock()
	return es, nil
}

// Stat answers from a fresh listing of name's folder when it has name. A
// listing that expired while it was busy is listed again (one LIST for the
// folder instead of one lookup per remaining name, as in ls -l of a large
// folder).
func (c *listCache) Stat(ctx context.Context, name string) (core.Entry, error) {
	if e, ok := c.cached(ctx, name); ok {
		return e, nil
	}
	return c.Store.Stat(ctx, name)
}

// Open opens the version a fresh listing names, without asking the nodes
// for the entry again.
func (c *listCache) Open(ctx context.Context, name string) (*core.File, error) {
	if e, ok := c.cached(ctx, name); ok && !e.Dir && e.State != core.StateIncomplete {
		return c.Store.OpenEntry(e)
	}
	return c.Store.Open(ctx, name)
}

func (c *listCache) cached(ctx context.Context, name string) (core.Entry, bool) {
	dir := core.Parent(name)
	c.mu.Lock()
	l := c.dirs[dir]
	c.mu.Unlock()
	if l == nil || l.gen != c.gen.Load() {
		return core.Entry{}, false
	}
	if time.Since(l.at) >= l.ttl {
		if _, known := l.entries[name]; !known || l.hits.Load() < busyListing {
			return core.Entry{}, false
		}
		if _, err := c.ReadDir(ctx, dir); err != nil {
			return core.Entry{}, false
		}
		c.mu.Lock()
		l = c.dirs[dir]
		c.mu.Unlock()
		if l == nil {
			return core.Entry{}, false
		}
		l.hits.Store(busyListing) // still busy
	}
	e, ok := l.entries[name]
	if ok {
		l.hits.Add(1)
	}
	return e, ok
}

// change runs a change with every listing invalidated around it.
func change[T any](c *listCache, fn func() (T, error)) (T, error) {
	c.gen.Add(1)
	defer c.gen.Add(1)
	return fn()
}

func (c *listCache) Put(ctx context.Context, name string, r io.ReaderAt, size int64, opt core.PutOptions) (core.PutResult, error) {
	return change(c, func() (core.PutResult, error) { return c.Store.Put(ctx, name, r, size, opt) })
}

func (c *listCache) Mkdir(ctx context.Context, name string, mode os.FileMode) (core.Entry, error) {
	return change(c, func() (core.Entry, error) { return c.Store.Mkdir(ctx, name, mode) })
}

func (c *listCache) Rmdir(ctx context.Context, name string) error {
	_, err := change(c, func() (struct{}, error) { return struct{}{}, c.Store.Rmdir(ctx, name) })
	return err
}

// Remove deletes name, using its entry from a fresh listing when there is
// one (rm -r lists each folder first) rather than asking every node again.
func (c *listCache) Remove(ctx context.Context, name string) error {
	e, ok := c.cached(ctx, name)
	_, err := change(c, func() (struct{}, error) {
		if ok {
			return struct{}{}, c.Store.RemoveEntry(ctx, e)
		}
		return struct{}{}, c.Store.Remove(ctx, name)
	})
	return err
}

func (c *listCache) Rename(ctx context.Context, from, to string) error {
	_, err := change(c, func() (struct{}, error) { return struct{}{}, c.Store.Rename(ctx, from, to) })
	return err
}

// SetAttr changes name's attributes, from a fresh listing's entry when
// there is one.
func (c *listCache) SetAttr(ctx context.Context, name string, mode *os.FileMode, mtime *time.Time) (core.Entry, error) {
	e, ok := c.cached(ctx, name)
	return change(c, func() (core.Entry, error) {
		if ok {
			return c.Store.SetAttrEntry(ctx, e, mode, mtime)
		}
		return c.Store.SetAttr(ctx, name, mode, mtime)
	})
}
