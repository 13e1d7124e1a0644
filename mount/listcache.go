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
	dirs map[string]listing
}

type listing struct {
	gen     uint64
	at      time.Time
	entries map[string]core.Entry
}

const maxCachedDirs = 64

func newListCache(s Store, ttl time.Duration) *listCache {
	return &listCache{Store: s, ttl: ttl, dirs: map[string]listing{}}
}

// ReadDir lists dir and remembers the result.
func (c *listCache) ReadDir(ctx context.Context, dir string) ([]core.Entry, error) {
	gen := c.gen.Load()
	at := time.Now()
	es, err := c.Store.ReadDir(ctx, dir)
	if err != nil {
		return es, err
	}
	m := make(map[string]core.Entry, len(es))
	for _, e := range es {
		m[e.Name] = e
	}
	c.mu.Lock()
	if len(c.dirs) >= maxCachedDirs {
		clear(c.dirs)
	}
	c.dirs[dir] = listing{gen: gen, at: at, entries: m}
	c.mu.Unlock()
	return es, nil
}

// Stat answers from a fresh listing of name's folder when it has name.
func (c *listCache) Stat(ctx context.Context, name string) (core.Entry, error) {
	c.mu.Lock()
	l, ok := c.dirs[core.Parent(name)]
	c.mu.Unlock()
	if ok && l.gen == c.gen.Load() && time.Since(l.at) < c.ttl {
		if e, ok := l.entries[name]; ok {
			return e, nil
		}
	}
	return c.Store.Stat(ctx, name)
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

func (c *listCache) Mkdir(ctx context.Context, name string, mode os.FileMode) error {
	_, err := change(c, func() (struct{}, error) { return struct{}{}, c.Store.Mkdir(ctx, name, mode) })
	return err
}

func (c *listCache) Rmdir(ctx context.Context, name string) error {
	_, err := change(c, func() (struct{}, error) { return struct{}{}, c.Store.Rmdir(ctx, name) })
	return err
}

func (c *listCache) Remove(ctx context.Context, name string) error {
	_, err := change(c, func() (struct{}, error) { return struct{}{}, c.Store.Remove(ctx, name) })
	return err
}

func (c *listCache) Rename(ctx context.Context, from, to string) error {
	_, err := change(c, func() (struct{}, error) { return struct{}{}, c.Store.Rename(ctx, from, to) })
	return err
}

func (c *listCache) SetAttr(ctx context.Context, name string, mode *os.FileMode, mtime *time.Time) (core.Entry, error) {
	return change(c, func() (core.Entry, error) { return c.Store.SetAttr(ctx, name, mode, mtime) })
}
