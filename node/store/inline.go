package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"dfs/core"
)

// Small chunks (wire.MaxInlineChunk) are kept in memory from PUT_CHUNK
// until their COMMIT, which writes them inside the entry's @meta: a small
// file then costs one file written per node instead of three. Kept in
// memory only: a node restart forgets them and the commit holds fewer
// chunks, which the client sees in Held (a degraded put, healed later).
const (
	inlineMaxAge   = 10 * time.Minute
	inlineMaxBytes = 64 << 20
)

// inlineStage holds uploaded inline chunks waiting for their commit.
type inlineStage struct {
	mu     sync.Mutex // guards the fields below
	chunks map[string]inlineChunk
	bytes  int
}

type inlineChunk struct {
	data []byte
	at   time.Time
}

func inlineKey(user, upload string, n int) string {
	return user + "/" + upload + "/" + string(rune('0'+n))
}

// put keeps a chunk; it reports false when the stage is full.
func (st *inlineStage) put(key string, data []byte) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.chunks == nil {
		st.chunks = map[string]inlineChunk{}
	}
	cutoff := time.Now().Add(-inlineMaxAge)
	for k, c := range st.chunks {
		if c.at.Before(cutoff) {
			st.bytes -= len(c.data)
			delete(st.chunks, k)
		}
	}
	if st.bytes+len(data) > inlineMaxBytes {
		return false
	}
	if old, ok := st.chunks[key]; ok {
		st.bytes -= len(old.data)
	}
	st.chunks[key] = inlineChunk{data: data, at: time.Now()}
	st.bytes += len(data)
	return true
}

// has reports whether the stage holds a chunk.
func (st *inlineStage) has(key string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	_, ok := st.chunks[key]
	return ok
}

// take removes and returns a chunk.
func (st *inlineStage) take(key string) ([]byte, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	c, ok := st.chunks[key]
	if ok {
		delete(st.chunks, key)
		st.bytes -= len(c.data)
	}
	return c.data, ok
}

// takeInline moves the upload's inline chunks into m, keeping those m's
// version already had (a commit adding copies). The replaced version's
// inline chunks are set aside for its readers by supersede.
func (u *UserDir) takeInline(upload string, old, m *Record) {
	m.Inline = nil
	if old != nil && !old.Deleted && old.Version == m.Version {
		m.Inline = old.Inline
	}
	if upload == "" {
		return
	}
	for n := 0; n < core.NumChunks; n++ {
		if data, ok := u.inline.take(inlineKey(u.user, upload, n)); ok {
			if m.Inline == nil {
				m.Inline = map[int][]byte{}
			}
			m.Inline[n] = data
		}
	}
}

// dropInline forgets an upload's inline chunks (its commit was refused).
func (u *UserDir) dropInline(upload string) {
	for n := 0; n < core.NumChunks; n++ {
		u.inline.take(inlineKey(u.user, upload, n))
	}
}

// StageInline keeps chunk n of upload in memory until its commit stores it
// inside the entry's meta (docs/format.md, Inline chunks); false when the
// node holds too many already.
func (u *UserDir) StageInline(upload string, n int, data []byte) bool {
	return u.inline.put(inlineKey(u.user, upload, n), data)
}

// inlineHeld reports whether m holds chunk n inline, matching its size and
// SHA-256.
func inlineHeld(m *Record, n int) bool {
	data, ok := m.Inline[n]
	if !ok || int64(len(data)) != m.Chunks[n].Size {
		return false
	}
	sum := sha256.Sum256(data)
	return strings.EqualFold(hex.EncodeToString(sum[:]), m.Chunks[n].SHA256)
}

// inlineChunkOf returns chunk n of version v if m keeps it inline.
func inlineChunkOf(m *Record, v string, n int) ([]byte, bool) {
	if m == nil {
		return nil, false
	}
	if m.Version == v {
		if d, ok := m.Inline[n]; ok {
			return d, true
		}
	}
	return nil, false
}
