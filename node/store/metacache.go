package store

import "sync"

// maxCachedMetas bounds a user's meta cache; past it the cache starts over.
const maxCachedMetas = 64 << 10

// cachedMeta is what the cache knows of one entry directory.
type cachedMeta struct {
	meta   *Record // without inline chunks; nil: the directory has no @meta
	inline uint8   // the chunks the @meta on disk keeps inline (read it for them)
}

// metaCache keeps a user's entries in memory, so that listings and lookups
// do not read one @meta file per entry (and keep working fast after the
// kernel's caches were dropped). It knows only directories that exist.
// Writers (holding the user's lock) update it with every change; readers
// that miss fill it from disk, unless a change came in between (gen), so a
// slow reader never puts back what a writer replaced.
type metaCache struct {
	mu  sync.Mutex // guards the fields below
	gen uint64     // bumped by every change
	m   map[string]cachedMeta
}

func newMetaCache() *metaCache { return &metaCache{m: map[string]cachedMeta{}} }

// get returns a copy of what is known of rel.
func (c *metaCache) get(rel string) (cachedMeta, bool) {
	c.mu.Lock()
	cm, ok := c.m[rel]
	c.mu.Unlock()
	if ok && cm.meta != nil {
		m := *cm.meta
		cm.meta = &m
	}
	return cm, ok
}

// begin returns the generation a reader must see unchanged to fill.
func (c *metaCache) begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// fill remembers what a reader found on disk, unless a change came since
// gen.
func (c *metaCache) fill(rel string, m *Record, inline uint8, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.putLocked(rel, m, inline)
	}
}

// set records a change: rel now holds m (nil: a directory without @meta).
func (c *metaCache) set(rel string, m *Record, inline uint8) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.putLocked(rel, m, inline)
}

func (c *metaCache) putLocked(rel string, m *Record, inline uint8) {
	if len(c.m) >= maxCachedMetas {
		clear(c.m)
	}
	var pm *Record
	if m != nil {
		p := *m
		p.Inline = nil
		pm = &p
	}
	c.m[rel] = cachedMeta{meta: pm, inline: inline}
}

// dropTree forgets rel and everything under it (removed or moved).
func (c *metaCache) dropTree(rel string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, rel)
	for k := range c.m {
		if _, ok := underRel(k, rel, ""); ok {
			delete(c.m, k)
		}
	}
}
