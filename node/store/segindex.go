package store

import (
	"encoding/hex"
	"sync"
	"time"

	"dfs/core"
)

// segIndex is what a node knows of one user's stored segments: for each
// segment id, how many live records list it and which of its chunk files
// are in the user's segments folder. It is the one place that knows this:
// built at start by the recovery walk (records give the references, the
// segments folder's names the chunk files) and changed by every commit,
// delete, rename over a file, tombstone, quarantine and sweep. Held in
// replies is computed from it when the reply is made, so it is never
// stale.
//
// A segment whose references fall to 0 is released: its chunk files stay
// for the grace period (for readers of the versions that listed it), then
// the sweeper deletes them (gc.go), unless a record listed it again
// meanwhile. Nothing is found by path, so renames cannot leak segments.
type segIndex struct {
	mu     sync.Mutex // guards the fields below; changes come under the user's lock too
	m      map[string]*segState
	queue  []releasedSeg // released segments, oldest first (some resurrected since)
	bytes  int64         // of the chunk files present, all segments
	aside  int64         // of them, those of released segments
	refsOK bool          // every reference is counted (false: recovery could not walk the records; nothing is deleted)
}

// segState is one segment's entry.
type segState struct {
	refs     int   // live records listing the segment
	present  uint8 // bit c: chunk file c is in the segments folder
	size     [core.NumChunks]int64
	sha      [core.NumChunks][8]byte // first bytes of each present chunk's SHA-256 (its header's)
	released time.Time               // when refs fell to 0; zero while referenced
}

type releasedSeg struct {
	id string
	at time.Time
}

func newSegIndex() *segIndex { return &segIndex{m: map[string]*segState{}, refsOK: true} }

// fileBytes is what s's present chunk files take on the disk.
func (s *segState) fileBytes() int64 {
	var n int64
	for c := range core.NumChunks {
		if s.present&(1<<c) != 0 {
			n += chunkFileSize(s.size[c])
		}
	}
	return n
}

// ref counts one more record listing each of ids; a released segment is
// referenced again (resurrected): the sweeper leaves it.
func (x *segIndex) ref(ids []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range ids {
		s := x.m[id]
		if s == nil {
			s = &segState{}
			x.m[id] = s
		}
		if s.refs == 0 && !s.released.IsZero() {
			x.aside -= s.fileBytes()
			s.released = time.Time{}
		}
		s.refs++
	}
}

// unref counts one record fewer listing each of ids, releasing those no
// record lists any more as of now.
func (x *segIndex) unref(ids []string, now time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range ids {
		s := x.m[id]
		if s == nil || s.refs == 0 {
			continue // BUG-proof: a reference never counted
		}
		s.refs--
		if s.refs > 0 {
			continue
		}
		if s.present == 0 {
			delete(x.m, id)
			continue
		}
		s.released = now
		x.aside += s.fileBytes()
		x.queue = append(x.queue, releasedSeg{id: id, at: now})
	}
}

// addChunk notes chunk file c of segment id, holding size bytes with the
// given SHA-256, in the segments folder (replacing one there).
func (x *segIndex) addChunk(id string, c int, size int64, sum [32]byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.m[id]
	if s == nil {
		s = &segState{}
		x.m[id] = s
	}
	x.dropLocked(s, c)
	s.present |= 1 << c
	s.size[c] = size
	copy(s.sha[c][:], sum[:8])
	x.bytes += chunkFileSize(size)
	if s.refs == 0 && !s.released.IsZero() {
		x.aside += chunkFileSize(size)
	}
}

// dropChunk notes that chunk file c of segment id left the segments folder
// (quarantined, swept).
func (x *segIndex) dropChunk(id string, c int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.m[id]
	if s == nil {
		return
	}
	x.dropLocked(s, c)
	if s.refs == 0 && s.present == 0 {
		delete(x.m, id)
	}
}

func (x *segIndex) dropLocked(s *segState, c int) {
	if s.present&(1<<c) == 0 {
		return
	}
	n := chunkFileSize(s.size[c])
	x.bytes -= n
	if s.refs == 0 && !s.released.IsZero() {
		x.aside -= n
	}
	s.present &^= 1 << c
}

// chunk returns the size and the first bytes of the SHA-256 of chunk file
// c of segment id, if it is present.
func (x *segIndex) chunk(id string, c int) (size int64, sha [8]byte, ok bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.m[id]
	if s == nil || s.present&(1<<c) == 0 {
		return 0, sha, false
	}
	return s.size[c], s.sha[c], true
}

// has reports whether chunk file c of the segment is present and matches
// ci (size and SHA-256).
func (x *segIndex) has(id string, c int, ci ChunkRecord) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.hasLocked(x.m[id], c, ci)
}

func (x *segIndex) hasLocked(s *segState, c int, ci ChunkRecord) bool {
	if s == nil || s.present&(1<<c) == 0 || s.size[c] != ci.Size || len(ci.SHA256) < 16 {
		return false
	}
	var want [8]byte
	if _, err := hex.Decode(want[:], []byte(ci.SHA256[:16])); err != nil {
		return false
	}
	return want == s.sha[c]
}

// held returns, for each of r's segments, the chunk files present that
// match r's chunks (bit c: chunk c); nil when r lists none.
func (x *segIndex) held(r *Record) []uint8 {
	if len(r.Segments) == 0 {
		return nil
	}
	out := make([]uint8, len(r.Segments))
	x.mu.Lock()
	defer x.mu.Unlock()
	for i := range r.Segments {
		sg := &r.Segments[i]
		s := x.m[sg.ID]
		for c := range core.NumChunks {
			if x.hasLocked(s, c, sg.Chunks[c]) {
				out[i] |= 1 << c
			}
		}
	}
	return out
}

// due takes the segments released before cutoff off the queue.
func (x *segIndex) due(cutoff time.Time) []releasedSeg {
	x.mu.Lock()
	defer x.mu.Unlock()
	i := 0
	for i < len(x.queue) && x.queue[i].at.Before(cutoff) {
		i++
	}
	out := x.queue[:i:i]
	x.queue = x.queue[i:]
	return out
}

// requeue puts back segments due that could not be swept yet.
func (x *segIndex) requeue(rs []releasedSeg) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.queue = append(append([]releasedSeg{}, rs...), x.queue...)
}

// sweepable returns the chunk files present of a segment released at at
// and not referenced since (0 when it was, or is gone).
func (x *segIndex) sweepable(r releasedSeg) uint8 {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.m[r.id]
	if s == nil || s.refs > 0 || !s.released.Equal(r.at) {
		return 0
	}
	return s.present
}

// usage returns the bytes of the chunk files present and, of them, of
// released segments.
func (x *segIndex) usage() (bytes, aside int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.bytes, x.aside
}

// refs returns how many records list segment id.
func (x *segIndex) refs(id string) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	if s := x.m[id]; s != nil {
		return s.refs
	}
	return 0
}
