package store

import (
	"fmt"
	"sync"
)

// A user's use of the node's disk, which quotas limit (docs/security.md,
// Quotas): the chunk files of the user's stored segments, each counted
// once however many versions list it, released ones included until the
// sweeper deletes them; the chunks kept inline in the user's records;
// staged uploads; and uploads being received. Each kind is counted where
// it is cheapest and cannot drift:
//   - chunk files of segments are counted by the segment index
//     (segindex.go), which follows every file that enters or leaves the
//     segments folder;
//   - inline chunks in records are a counter, established by the walk
//     recovery makes at start (never persisted, so a crash cannot leave it
//     wrong) and changed by every commit, delete, rename and removal;
//   - staged chunk files are counted by the user's uploads (budget.go),
//     which follow each one as it is kept, committed or dropped (a commit,
//     DROP, the user's last connection closing, an idle upload), changing
//     the count under the lock that orders the staging folder's changes;
//     a restart starts with none, recovery having removed them all;
//   - an upload being received is reserved in full when it starts
//     (Reserve), so that parallel uploads cannot all fit in the same room.
//
// A chunk moving from one kind to another is counted in the new one first
// and uncounted from the old one after, so that it is never counted short.
// The entries' @meta files (names, attributes) are not counted, nor inline
// chunks waiting for their commit or set aside: those are in memory.

// usage is one user's counter; nil for folders opened without a running
// node (recovery, offline scrub).
type usage struct {
	mu       sync.Mutex // guards the fields below
	inline   int64      // the records' inline chunks
	reserved int64      // chunk uploads being received
}

// Usage is what a user holds on this node's disk.
type Usage struct {
	Bytes int64 // everything counted
	Aside int64 // of Bytes, segments no version lists any more, kept for the grace period
}

// QuotaError refuses an upload that would take the user past Limit.
type QuotaError struct {
	Usage
	Limit int64 // the user's quota
	Need  int64 // what the upload would add
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("over quota: using %d of %d bytes, %d more refused", e.Bytes, e.Limit, e.Need)
}

// Usage returns what the user holds on this node's disk now.
func (u *UserDir) Usage() Usage {
	if u.usage == nil {
		return Usage{}
	}
	u.usage.mu.Lock()
	defer u.usage.mu.Unlock()
	return u.usageLocked()
}

// usageLocked is Usage with u.usage.mu held. The staged files' count is
// read without the uploads' lock (which a commit holds while it counts):
// a chunk kept there is counted before its reservation goes, which takes
// u.usage.mu, so a check never counts it short.
func (u *UserDir) usageLocked() Usage {
	segs, aside := u.segs.usage()
	return Usage{Bytes: segs + u.usage.inline + u.usage.reserved + u.up.files.Load(), Aside: aside}
}

// Reserve makes room for a chunk upload of size bytes (inline: kept in
// memory until its commit) under the user's quota limit (0: none), or
// refuses it with a *QuotaError. replaces is what the chunk it replaces
// takes (ReplacedSize): a chunk sent again is not counted twice. release gives back the room of an upload
// that ends; a chunk file it staged (a small chunk too, when the budget
// has no memory left for it) is counted with the staged uploads from then
// on, and a small chunk kept in memory when its commit stores it.
func (u *UserDir) Reserve(size int64, inline bool, limit, replaces int64) (release func(), err error) {
	if u.usage == nil {
		return func() {}, nil
	}
	need := size
	if !inline {
		need = chunkFileSize(size)
	}
	u.usage.mu.Lock()
	defer u.usage.mu.Unlock()
	if limit > 0 {
		if now := u.usageLocked(); now.Bytes-replaces+need > limit {
			return nil, &QuotaError{Usage: now, Limit: limit, Need: need}
		}
	}
	if inline {
		return func() {}, nil
	}
	u.usage.reserved += need
	var once sync.Once
	return func() {
		once.Do(func() {
			u.usage.mu.Lock()
			u.usage.reserved -= need
			u.usage.mu.Unlock()
		})
	}, nil
}

// ReplacedSize is what chunk n of segment seg that upload already staged
// takes, 0 if none: a PUT_CHUNK of the same chunk replaces it.
func (u *UserDir) ReplacedSize(upload, seg string, n int) int64 {
	return u.up.stagedSize(upload, partKey{seg: seg, n: n})
}

// count adds n bytes to what the user's records keep inline (n < 0:
// removes).
func (u *UserDir) count(n int64) {
	if u.usage == nil {
		return
	}
	u.usage.mu.Lock()
	u.usage.inline += n
	u.usage.mu.Unlock()
}

// treeRefs returns the segments listed by the live files in the entry
// directory rel and under it (once per file) and the bytes of their
// inline chunks: what removing it releases.
func (u *UserDir) treeRefs(rel string) (ids []string, inline int64) {
	m, mask, err := u.readMeta(rel)
	if err == nil && isFile(m) {
		ids = append(ids, segmentIDs(m)...)
		if mask != 0 {
			if full, err := u.readFull(rel); err == nil {
				inline += inlineBytes(full)
			}
		}
	}
	ents, err := u.readDir(rel)
	if err != nil {
		return ids, inline
	}
	for _, de := range ents {
		if _, ok := unescapeComponent(de.Name()); ok && de.IsDir() {
			sub, n := u.treeRefs(rel + "/" + de.Name())
			ids = append(ids, sub...)
			inline += n
		}
	}
	return ids, inline
}

// regularSize returns the size of rel when it is a regular file.
func (u *UserDir) regularSize(rel string) (int64, bool) {
	fi, err := u.root.Lstat(rel)
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	return fi.Size(), true
}

// inlineBytes is what the chunks m keeps inline take (nil m: none).
func inlineBytes(m *Record) int64 {
	if m == nil {
		return 0
	}
	var n int64
	for _, data := range m.Inline {
		n += int64(len(data))
	}
	return n
}
