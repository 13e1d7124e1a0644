package store

import (
	"errors"
	"io/fs"
	"sync"
	"time"
)

// A commit supersedes the entry's previous version, and a delete or a
// rename over an entry supersedes its version too, but a reader may be in
// the middle of it (a mount serving an open file). Its chunks are therefore
// set aside and still served for a grace period (the node's Config.Grace):
// chunk files move into the user's superseded folder under their own names (@<version>.c<N>; version
// ids are unique, so no entry path is needed to find them), and chunks kept
// inline in the entry's meta into memory. Reads find them by version
// whatever happened to the entry's path since, and the sweeper deletes the
// files by the same name once a flush has made what replaced them durable:
// renames of the entry or of a folder above it cannot leak them. At start,
// the node puts back the set-aside files of an entry's current version (a
// crash lost the change that superseded them) and deletes the others.
const (
	supersededDir = "superseded"
	// supersededInlineMax bounds the memory of set-aside inline chunks per
	// node; beyond it the oldest of the user holding the most go first
	// (their readers then fail with "superseded", as after the grace), so
	// that one user rewriting small files cannot push out another's.
	supersededInlineMax = 32 << 20
)

// oldChunks remembers the set-aside chunks of every user of a running node,
// oldest first.
type oldChunks struct {
	mu          sync.Mutex // guards the fields below
	files       []oldChunk
	inline      map[string]oldInline    // by oldKey
	inlineOrder map[string]*inlineQueue // the same by user
	inlineBytes int                     // of all users
}

// inlineQueue is one user's set-aside inline chunks, oldest first (with
// those replaced since, which no longer count), and the bytes of those
// that count.
type inlineQueue struct {
	its   []oldInline
	bytes int
}

type oldChunk struct {
	u    *UserDir
	name string // in the user's superseded folder
	at   time.Time
	size int64 // of the file, counted in the user's usage until it is deleted
}

type oldInline struct {
	user, key string
	data      []byte
	at        time.Time
}

// oldKey names a set-aside inline chunk: a user's version and chunk.
func oldKey(user, ver string, n int) string { return user + "/" + chunkName(ver, n) }

func (o *oldChunks) addFile(c oldChunk) {
	o.mu.Lock()
	o.files = append(o.files, c)
	o.mu.Unlock()
}

// addInline keeps an inline chunk of user for the grace period, within the
// budget.
func (o *oldChunks) addInline(user, key string, data []byte, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.inline == nil {
		o.inline, o.inlineOrder = map[string]oldInline{}, map[string]*inlineQueue{}
	}
	if prev, ok := o.inline[key]; ok {
		o.inlineBytes -= len(prev.data)
		o.inlineOrder[prev.user].bytes -= len(prev.data)
	}
	it := oldInline{user: user, key: key, data: data, at: now}
	o.inline[key] = it
	q := o.inlineOrder[user]
	if q == nil {
		q = &inlineQueue{}
		o.inlineOrder[user] = q
	}
	q.its = append(q.its, it)
	q.bytes += len(data)
	o.inlineBytes += len(data)
	for o.inlineBytes > supersededInlineMax { // the sweeper drops them by age
		var most string
		for u, q := range o.inlineOrder {
			if most == "" || q.bytes > o.inlineOrder[most].bytes {
				most = u
			}
		}
		o.popInlineLocked(most)
	}
}

// popInlineLocked forgets user's oldest set-aside inline chunk.
func (o *oldChunks) popInlineLocked(user string) {
	q := o.inlineOrder[user]
	it := q.its[0]
	q.its = q.its[1:]
	if cur, ok := o.inline[it.key]; ok && cur.at.Equal(it.at) {
		delete(o.inline, it.key)
		o.inlineBytes -= len(it.data)
		q.bytes -= len(it.data)
	}
	if len(q.its) == 0 {
		delete(o.inlineOrder, user)
	}
}

// dropInlineLocked forgets inline chunks set aside before cutoff.
func (o *oldChunks) dropInlineLocked(cutoff time.Time) {
	for user, q := range o.inlineOrder {
		for len(q.its) > 0 && q.its[0].at.Before(cutoff) {
			o.popInlineLocked(user)
		}
	}
}

// inlineChunk returns a set-aside inline chunk.
func (o *oldChunks) inlineChunk(key string) ([]byte, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	it, ok := o.inline[key]
	return it.data, ok
}

// asideInline keeps the inline chunks of old (an entry's full meta about
// to be replaced, nil if none) in memory for the grace period, unless they
// are of version keep. It runs before the meta that replaces old is
// written: a read of old's version in between would find it neither in the
// new meta nor here.
func (u *UserDir) asideInline(old *Record, keep string) {
	if u.old == nil || old == nil || old.Version == keep {
		return
	}
	now := time.Now()
	for n, data := range old.Inline {
		u.old.addInline(u.user, oldKey(u.user, old.Version, n), data, now)
	}
}

// supersede sets aside the chunk files in the entry directory rel that are
// not of version keep: they move to the superseded folder (a rename, so a
// read finds each in one place or the other). Offline (no sweeper) they
// are deleted instead.
func (u *UserDir) supersede(rel, keep string) error {
	names, err := u.readNames(rel)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, n := range names {
		v, _, ok := parseChunkName(n)
		if !ok || v == keep {
			continue
		}
		from := rel + "/" + n
		if u.old == nil {
			if err := u.root.Remove(from); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			continue
		}
		size, _ := u.regularSize(from)
		if err := u.root.Rename(from, supersededDir+"/"+n); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		u.count(0, size)
		u.old.addFile(oldChunk{u: u, name: n, at: now, size: size})
	}
	return nil
}

// SweepSuperseded deletes the chunks set aside before cutoff.
func (st *Store) SweepSuperseded(cutoff time.Time) {
	st.old.mu.Lock()
	st.old.dropInlineLocked(cutoff)
	var due []oldChunk
	for len(st.old.files) > 0 && st.old.files[0].at.Before(cutoff) {
		due = append(due, st.old.files[0])
		st.old.files = st.old.files[1:]
	}
	st.old.mu.Unlock()
	if len(due) == 0 {
		return
	}
	// What replaced them must be on disk before they go.
	if err := st.fl.sync(); err != nil {
		st.old.mu.Lock()
		st.old.files = append(due, st.old.files...)
		st.old.mu.Unlock()
		return
	}
	for _, o := range due {
		if err := o.u.root.Remove(supersededDir + "/" + o.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			st.log.Warn("remove superseded chunk", "user", o.u.user, "file", o.name, "err", err)
			continue
		}
		o.u.count(-o.size, -o.size)
	}
}
