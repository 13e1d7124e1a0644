package store

import (
	"fmt"
	"sync"
)

// A user's use of the node's disk, which quotas limit (docs/security.md,
// Quotas): the chunk files and inline chunks of the user's entries, the
// chunk files set aside for the grace period (superseded.go), staged
// uploads, and uploads being received. Each kind is counted where it is
// cheapest and cannot drift:
//   - what the entries hold and set aside is a counter, established by the
//     walk recovery makes at start (never persisted, so a crash cannot leave
//     it wrong) and changed by every commit, delete, rename, removal,
//     quarantine and sweep;
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
	stored   int64      // the entries' chunk files and inline chunks, and set-aside chunk files
	aside    int64      // the set-aside part of stored
	reserved int64      // chunk uploads being received
}

// Usage is what a user holds on this node's disk.
type Usage struct {
	Bytes int64 // everything counted
	Aside int64 // of Bytes, chunks of replaced or removed versions, kept for the grace period
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
	return Usage{Bytes: u.usage.stored + u.usage.reserved + u.up.files.Load(), Aside: u.usage.aside}
}

// Reserve makes room for a chunk upload of size bytes (inline: kept in
// memory until its commit) under the user's quota limit (0: none), or
// refuses it with a *QuotaError. release gives back the room of an upload
// that ends; a chunk file it staged (a small chunk too, when the budget
// has no memory left for it) is counted with the staged uploads from then
// on, and a small chunk kept in memory when its commit stores it.
func (u *UserDir) Reserve(size int64, inline bool, limit int64) (release func(), err error) {
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
		if now := u.usageLocked(); now.Bytes+need > limit {
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

// count adds stored bytes to what the user's entries hold and set aside,
// aside of them to what is set aside: (n, 0) for n bytes stored or (-n, 0)
// removed, (0, n) for n bytes set aside, (-n, -n) for n bytes set aside
// and then swept.
func (u *UserDir) count(stored, aside int64) {
	if u.usage == nil {
		return
	}
	u.usage.mu.Lock()
	u.usage.stored += stored
	u.usage.aside += aside
	u.usage.mu.Unlock()
}

// treeBytes measures what the entry directory rel and everything under it
// count (0 when the folder has no counter): what removing it frees.
func (u *UserDir) treeBytes(rel string) int64 {
	if u.usage == nil {
		return 0
	}
	return u.sizeUnder(rel)
}

// sizeUnder measures the chunk files and inline chunks in directory rel
// and under it.
func (u *UserDir) sizeUnder(rel string) int64 {
	ents, err := u.readDir(rel)
	if err != nil {
		return 0
	}
	var names []string
	var n int64
	for _, de := range ents {
		name := de.Name()
		if _, ok := unescapeComponent(name); ok && de.IsDir() {
			n += u.sizeUnder(rel + "/" + name)
		} else {
			names = append(names, name)
		}
	}
	var m Record
	if found, err := u.decodeMeta(rel, &m); err == nil && found {
		n += inlineBytes(&m)
	}
	return n + u.filesBytes(rel, names)
}

// filesBytes is the size of the chunk files among names in directory rel
// (other names do not count).
func (u *UserDir) filesBytes(rel string, names []string) int64 {
	var n int64
	for _, name := range names {
		if _, _, ok := parseChunkName(name); ok {
			size, _ := u.regularSize(rel + "/" + name)
			n += size
		}
	}
	return n
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
