package store

import (
	"errors"
	"io/fs"
	"sync"
	"time"

	"dfs/core"
)

// Segments are reclaimed by reference (segindex.go): a segment no live
// record lists any more is released, and its chunk files stay for a grace
// period (the node's Config.Grace) for readers still on a version that
// listed it (a mount serving an open file), whatever happened to the
// entry's path since. Then SweepReleased deletes them, once a flush has
// made the change that released them durable, unless a record listed the
// segment again meanwhile. At start, recovery deletes the chunk files of
// segments no record lists (their readers are gone with the restart).
//
// Chunks kept inline in a replaced or removed record are set aside in
// memory for the same grace period, by segment id.
const (
	// asideInlineMax bounds the memory of set-aside inline chunks per
	// node; beyond it the oldest of the user holding the most go first
	// (their readers then fail as after the grace), so that one user
	// rewriting small files cannot push out another's.
	asideInlineMax = 32 << 20
)

// oldChunks remembers the set-aside inline chunks of every user of a
// running node, oldest first.
type oldChunks struct {
	mu          sync.Mutex              // guards the fields below
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

type oldInline struct {
	user, key string
	data      []byte
	at        time.Time
}

// oldKey names a set-aside inline chunk: a user's segment and chunk.
func oldKey(user, seg string, n int) string { return user + "/" + chunkBase(seg, n) }

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
	for o.inlineBytes > asideInlineMax { // the sweeper drops them by age
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

// asideInline keeps the inline chunks of old (an entry's full record about
// to be replaced, nil if none) in memory for the grace period, unless its
// segment 0 is keep (the new record still has them). It runs before the
// record that replaces old is written: a read of old's segment in between
// would find it neither in the new record nor here.
func (u *UserDir) asideInline(old *Record, keep string) {
	if u.old == nil || !isFile(old) || len(old.Inline) == 0 || len(old.Segments) == 0 || old.Segments[0].ID == keep {
		return
	}
	now := time.Now()
	id := old.Segments[0].ID
	for n, data := range old.Inline {
		u.old.addInline(u.user, oldKey(u.user, id, n), data, now)
	}
}

// SweepReleased deletes the chunk files of the segments released before
// cutoff and not listed again since, and forgets the inline chunks set
// aside before cutoff. What released them is made durable first: a crash
// must not bring back a record listing a deleted segment.
func (st *Store) SweepReleased(cutoff time.Time) {
	st.old.mu.Lock()
	st.old.dropInlineLocked(cutoff)
	st.old.mu.Unlock()
	type userDue struct {
		u   *UserDir
		due []releasedSeg
	}
	var all []userDue
	for _, u := range st.openUsers() {
		if due := u.segs.due(cutoff); len(due) > 0 {
			all = append(all, userDue{u, due})
		}
	}
	if len(all) == 0 {
		return
	}
	if err := st.fl.sync(); err != nil {
		for _, d := range all {
			d.u.segs.requeue(d.due)
		}
		return
	}
	for _, d := range all {
		d.u.sweep(d.due)
	}
}

// sweep deletes the chunk files of the released segments due that no
// record listed again since their release.
func (u *UserDir) sweep(due []releasedSeg) {
	u.mu.Lock() // no commit shares a segment while its files go
	defer u.mu.Unlock()
	if !u.segs.refsOK {
		return
	}
	dirs := map[string]bool{}
	for _, r := range due {
		present := u.segs.sweepable(r)
		for c := range core.NumChunks {
			if present&(1<<c) == 0 {
				continue
			}
			if err := u.root.Remove(segFile(r.id, c)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				u.log.Warn("remove a released segment's chunk", "user", u.user, "segment", r.id, "chunk", c, "err", err)
				continue
			}
			u.segs.dropChunk(r.id, c)
			dirs[segFolder(r.id)] = true
		}
	}
	for d := range dirs {
		_ = u.syncDir(d)
	}
}
