package client

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"dfs/core"
)

// listCache serves lookups from the last listing of the parent folder while
// it is younger than its timeout, so that `ls -l` of a folder costs one LIST
// instead of one lookup per file, and a name a fresh listing lacks is absent
// without asking the nodes (the lookup before every create). The client's
// own changes are written into the listings they touch (write-through), so
// it always sees them; other clients' changes show within the timeout, as
// they would through the kernel's own entry cache. It is off (every call
// asks the nodes) until CacheListings turns it on; the mount does, with its
// entry timeout.
type listCache struct {
	nodes namespace
	ttlNS atomic.Int64 // the timeout in nanoseconds; 0: off

	mu      sync.Mutex // guards the fields below
	dirs    map[string]*listing
	looked  map[string]looked // single lookups of names no fresh listing holds
	kept    map[string]looked // folders whose times moved since (bumpedLocked): still who they are, for Folder
	clock   uint64            // bumped by every change
	changed map[string]uint64 // folder -> clock of its last change
	floor   uint64            // clock when changed was last emptied
}

// namespace is what the cache sits in front of: the client's operations
// that ask the nodes (*Client implements it; tests count calls with a fake).
// known is the entry of name when the cache has it, nil to ask the nodes.
type namespace interface {
	stat(ctx context.Context, name string) (Entry, error)
	readDir(ctx context.Context, dir string) ([]Entry, error)
	put(ctx context.Context, name string, r io.ReaderAt, size int64, opt PutOptions) (PutResult, error)
	mkdir(ctx context.Context, name string, mode, uid, gid uint32) (Entry, error)
	rmdir(ctx context.Context, name string, known *Entry) error
	remove(ctx context.Context, name string, known *Entry) error
	rename(ctx context.Context, from, to string) error
	setAttr(ctx context.Context, name string, known *Entry, a Attrs) (Entry, error)
}

// looked is the answer to one lookup, served like a listing's entry for
// the timeout: the kernel's LOOKUP of a name is followed at once by the
// OPEN (cat f), and that open then needs no second question to the nodes.
type looked struct {
	e     Entry
	at    time.Time
	clock uint64 // clock when the lookup started: a change to the folder since voids it
}

// maxLooked bounds the single lookups remembered.
const maxLooked = 4096

type listing struct {
	at      time.Time
	ttl     time.Duration
	entries map[string]Entry // guarded by listCache.mu
	hits    atomic.Int64     // lookups served: a folder being walked is listed again rather than looked up name by name
}

// busyListing is how many lookups a listing must have served to be listed
// again when it expires, instead of each later name costing a lookup.
const busyListing = 16

const maxCachedDirs = 64

func newListCache(nodes namespace, ttl time.Duration) *listCache {
	c := &listCache{nodes: nodes, dirs: map[string]*listing{}, looked: map[string]looked{}, kept: map[string]looked{}, changed: map[string]uint64{}}
	c.ttlNS.Store(int64(ttl))
	return c
}

// ttl is how long answers are reused; 0 when the cache is off.
func (c *listCache) ttl() time.Duration { return time.Duration(c.ttlNS.Load()) }

// lean is e without what only heal needs (each node's meta), to keep
// listings small.
func lean(e Entry) Entry {
	var none Entry
	e.Raw = none.Raw
	return e
}

func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
}

// ReadDir lists dir, from a fresh listing when there is one.
func (c *listCache) ReadDir(ctx context.Context, dir string) ([]Entry, error) {
	dir, err := cleanName(dir)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if l := c.dirs[dir]; l != nil && time.Since(l.at) < l.ttl {
		es := make([]Entry, 0, len(l.entries))
		for _, e := range l.entries {
			es = append(es, e)
		}
		c.mu.Unlock()
		sortEntries(es)
		return es, nil
	}
	start := c.clock
	c.mu.Unlock()
	return c.list(ctx, dir, start)
}

// list asks the nodes for dir and keeps the answer unless the folder
// changed meanwhile (the answer may predate the change).
func (c *listCache) list(ctx context.Context, dir string, start uint64) ([]Entry, error) {
	t0 := time.Now()
	es, err := c.nodes.readDir(ctx, dir)
	if err != nil || c.ttl() == 0 {
		return es, err
	}
	// Counted from when the answer arrived, and kept at least as long as
	// the LIST took: a large folder's LIST can take longer than the timeout
	// itself, and its entries are then served while the caller (ls -l)
	// goes through them, instead of listing the folder again and again.
	at := time.Now()
	m := make(map[string]Entry, len(es))
	for i, e := range es {
		es[i] = lean(e)
		m[e.Name] = es[i]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed[dir] > start || c.floor > start {
		return es, nil
	}
	c.dropStaleLocked(at)
	if len(c.dirs) >= maxCachedDirs {
		clear(c.dirs)
	}
	c.dirs[dir] = &listing{at: at, ttl: max(c.ttl(), at.Sub(t0)), entries: m}
	return es, nil
}

// dropStaleLocked forgets the listings that expired a while before now:
// what a walk of a tree (find, ls -lR) listed is otherwise kept until 64
// folders were listed, tens of MiB for large folders. One expired less
// than a timeout ago stays, for a folder still being walked (see lookup).
func (c *listCache) dropStaleLocked(now time.Time) {
	for d, l := range c.dirs {
		if now.Sub(l.at) >= l.ttl+c.ttl() {
			delete(c.dirs, d)
		}
	}
}

// lookup answers from a fresh listing of name's folder: the entry and
// found, or absent when the listing lacks the name. A listing that expired
// while it was busy is listed again (one LIST for the folder instead of one
// lookup per remaining name, as in ls -l or a tar into a large folder).
func (c *listCache) lookup(ctx context.Context, name string) (e Entry, found, absent bool) {
	if name == "" || c.ttl() == 0 {
		// The top folder is in no listing, its own included (Parent("")
		// is ""): the nodes are asked, and it always exists.
		return Entry{}, false, false
	}
	dir := core.Parent(name)
	c.mu.Lock()
	l := c.dirs[dir]
	start := c.clock
	lk, memo := c.looked[name]
	memo = memo && time.Since(lk.at) < c.ttl() && c.changed[dir] <= lk.clock && c.floor <= lk.clock
	c.mu.Unlock()
	if l == nil || time.Since(l.at) >= l.ttl && l.hits.Load() < busyListing {
		return lk.e, memo, false
	}
	if time.Since(l.at) >= l.ttl {
		if _, err := c.list(ctx, dir, start); err != nil {
			return Entry{}, false, false
		}
		c.mu.Lock()
		l = c.dirs[dir]
		c.mu.Unlock()
		if l == nil {
			return Entry{}, false, false
		}
		l.hits.Store(busyListing) // still busy
	}
	l.hits.Add(1)
	c.mu.Lock()
	e, found = l.entries[name]
	c.mu.Unlock()
	return e, found, !found
}

// Stat answers from a fresh listing when it can.
func (c *listCache) Stat(ctx context.Context, name string) (Entry, error) {
	name, err := cleanName(name)
	if err != nil {
		return Entry{}, err
	}
	e, found, absent := c.lookup(ctx, name)
	switch {
	case found:
		return e, nil
	case absent:
		return Entry{}, fmt.Errorf("%s: %w", name, core.ErrNotFound)
	}
	c.mu.Lock()
	start := c.clock
	c.mu.Unlock()
	e, err = c.nodes.stat(ctx, name)
	if err == nil && name != "" && c.ttl() > 0 {
		c.remember(name, e, start)
	}
	return e, err
}

// remember keeps the answer to a lookup that started at clock start.
func (c *listCache) remember(name string, e Entry, start uint64) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.looked) >= maxLooked {
		for n, lk := range c.looked {
			if now.Sub(lk.at) >= c.ttl() {
				delete(c.looked, n)
			}
		}
		if len(c.looked) >= maxLooked {
			clear(c.looked)
		}
	}
	c.looked[name] = looked{e: lean(e), at: now, clock: start}
}

// open returns the entry of the version to open: the one a fresh listing
// names, else (and when that one is not whole) the nodes' answer.
func (c *listCache) open(ctx context.Context, name string) (Entry, error) {
	name, err := cleanName(name)
	if err != nil {
		return Entry{}, err
	}
	e, found, absent := c.lookup(ctx, name)
	switch {
	case found && !e.Dir && e.State != StateIncomplete:
		return e, nil
	case absent:
		return Entry{}, fmt.Errorf("%s: %w", name, core.ErrNotFound)
	}
	return c.nodes.stat(ctx, name)
}

// change runs fn, a change to the entries of the folders dirs, and then
// edit (on success) with the lock held: it brings the listings up to date.
// A failed change forgets the folders' listings, since what the nodes did
// is unknown.
func change[T any](c *listCache, dirs []string, fn func() (T, error), edit func(v T)) (T, error) {
	c.touch(dirs)
	v, err := fn()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.touchLocked(dirs)
	if err != nil {
		for _, d := range dirs {
			delete(c.dirs, d)
		}
		return v, err
	}
	edit(v)
	return v, nil
}

func (c *listCache) touch(dirs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.touchLocked(dirs)
}

// touchLocked marks the folders changed now, so that a listing taken
// before does not overwrite them.
func (c *listCache) touchLocked(dirs []string) {
	c.clock++
	if len(c.changed) >= 4*maxCachedDirs {
		clear(c.changed)
		c.floor = c.clock
	}
	for _, d := range dirs {
		c.changed[d] = c.clock
	}
}

// held replaces the folder e (sealerAt gave it to more nodes) where a
// listing or a lookup keeps it.
func (c *listCache) held(e Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(e)
	if lk, ok := c.looked[e.Name]; ok {
		lk.e = lean(e)
		c.looked[e.Name] = lk
	}
}

// setLocked puts e into its folder's listing, if there is one.
func (c *listCache) setLocked(e Entry) {
	if e.Name == "" {
		return // the top folder is in no listing
	}
	if l := c.dirs[core.Parent(e.Name)]; l != nil {
		l.entries[e.Name] = lean(e)
	}
}

// bumpedLocked forgets what is cached of the folder holding name, whose
// times the nodes moved forward when name was made, removed or renamed
// (its entry in its own folder's listing and its single lookup): the next
// stat asks the nodes.
func (c *listCache) bumpedLocked(name string) {
	dir := core.Parent(name)
	if name == "" || dir == "" {
		return // the top folder's times are not kept
	}
	if lk, ok := c.looked[dir]; ok {
		if len(c.kept) >= maxLooked {
			clear(c.kept)
		}
		c.kept[dir] = lk
	}
	delete(c.looked, dir)
	delete(c.dirs, core.Parent(dir))
}

// Folder is Stat for what a folder is rather than what it shows: its Born
// and the nodes holding it, which a new entry in it is sealed under
// (sealerAt). A folder's cached entry whose times moved since, as they do
// at every create inside it, still serves for the timeout: a tar into a
// folder must not ask the nodes for the folder at every file. A change of
// the folder itself (remove, rename) forgets it (dropLocked).
func (c *listCache) Folder(ctx context.Context, name string) (Entry, error) {
	c.mu.Lock()
	lk, ok := c.kept[name]
	c.mu.Unlock()
	if ok && time.Since(lk.at) < c.ttl() {
		return lk.e, nil
	}
	return c.Stat(ctx, name)
}

// dropLocked takes name out of its folder's listing, and forgets the
// listings and single lookups of name and everything under it.
func (c *listCache) dropLocked(name string) {
	if l := c.dirs[core.Parent(name)]; l != nil {
		delete(l.entries, name)
	}
	for d := range c.dirs {
		if d == name || strings.HasPrefix(d, name+"/") {
			delete(c.dirs, d)
		}
	}
	for n := range c.looked {
		if n == name || strings.HasPrefix(n, name+"/") {
			delete(c.looked, n)
		}
	}
	for n := range c.kept {
		if n == name || strings.HasPrefix(n, name+"/") {
			delete(c.kept, n)
		}
	}
}

// Put stores name and writes its new entry into its folder's listing.
func (c *listCache) Put(ctx context.Context, name string, r io.ReaderAt, size int64, opt PutOptions) (PutResult, error) {
	name, err := cleanName(name)
	if err != nil {
		return PutResult{}, err
	}
	return change(c, []string{core.Parent(name)},
		func() (PutResult, error) { return c.nodes.put(ctx, name, r, size, opt) },
		func(res PutResult) { c.setLocked(res.Entry); c.bumpedLocked(name) })
}

// Mkdir makes a folder; its listing starts out fresh and empty.
func (c *listCache) Mkdir(ctx context.Context, name string, mode, uid, gid uint32) (Entry, error) {
	name, err := cleanName(name)
	if err != nil {
		return Entry{}, err
	}
	return change(c, []string{core.Parent(name), name},
		func() (Entry, error) { return c.nodes.mkdir(ctx, name, mode, uid, gid) },
		func(e Entry) {
			c.setLocked(e)
			c.bumpedLocked(name)
			if c.ttl() > 0 {
				c.dirs[name] = &listing{at: time.Now(), ttl: c.ttl(), entries: map[string]Entry{}}
			}
		})
}

// cached returns name's entry from a fresh listing, or nil.
func (c *listCache) cached(ctx context.Context, name string) *Entry {
	if e, found, _ := c.lookup(ctx, name); found {
		return &e
	}
	return nil
}

// Rmdir removes a folder, using its entry from a fresh listing when there
// is one.
func (c *listCache) Rmdir(ctx context.Context, name string) error {
	name, err := cleanName(name)
	if err != nil {
		return err
	}
	known := c.cached(ctx, name)
	_, err = change(c, []string{core.Parent(name), name},
		func() (struct{}, error) { return struct{}{}, c.nodes.rmdir(ctx, name, known) },
		func(struct{}) { c.dropLocked(name); c.bumpedLocked(name) })
	return err
}

// Remove deletes name, using its entry from a fresh listing when there is
// one (rm -r lists each folder first) rather than asking every node again.
func (c *listCache) Remove(ctx context.Context, name string) error {
	name, err := cleanName(name)
	if err != nil {
		return err
	}
	known := c.cached(ctx, name)
	_, err = change(c, []string{core.Parent(name)},
		func() (struct{}, error) { return struct{}{}, c.nodes.remove(ctx, name, known) },
		func(struct{}) { c.dropLocked(name); c.bumpedLocked(name) })
	return err
}

// Rename moves from to to and forgets the listings involved.
func (c *listCache) Rename(ctx context.Context, from, to string) error {
	from, err := cleanName(from)
	if err != nil {
		return err
	}
	if to, err = cleanName(to); err != nil {
		return err
	}
	dirs := []string{core.Parent(from), core.Parent(to), from, to}
	_, err = change(c, dirs,
		func() (struct{}, error) { return struct{}{}, c.nodes.rename(ctx, from, to) },
		func(struct{}) {
			c.dropLocked(from)
			c.dropLocked(to)
			c.bumpedLocked(from)
			c.bumpedLocked(to)
			delete(c.dirs, core.Parent(from))
			delete(c.dirs, core.Parent(to))
		})
	return err
}

// SetAttr changes name's attributes, from a fresh listing's entry when
// there is one.
func (c *listCache) SetAttr(ctx context.Context, name string, a Attrs) (Entry, error) {
	name, err := cleanName(name)
	if err != nil {
		return Entry{}, err
	}
	known := c.cached(ctx, name)
	return change(c, []string{core.Parent(name)},
		func() (Entry, error) { return c.nodes.setAttr(ctx, name, known, a) },
		func(e Entry) { c.setLocked(e) })
}
