package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Small chunks (wire.MaxInlineChunk) are kept in memory from PUT_CHUNK
// until their COMMIT, which writes them inside the entry's @meta: a small
// file then costs one file written per node instead of three. A chunk
// beyond the memory the budget gives them (budget.go) waits in a staged
// file instead and is committed as a chunk file. A node restart forgets
// them and the commit holds fewer chunks, which the client sees in Held (a
// degraded put, healed later).

// takeInline puts the upload's inline chunks (from uploads.take) into m,
// keeping those m's version already had (a commit adding copies). The
// replaced version's inline chunks are set aside for its readers by
// supersede.
func takeInline(inline map[int][]byte, old, m *Record) {
	m.Inline = nil
	if old != nil && !old.Deleted && old.Version == m.Version {
		m.Inline = old.Inline
	}
	for n, data := range inline {
		if m.Inline == nil {
			m.Inline = map[int][]byte{}
		}
		m.Inline[n] = data
	}
}

// StageInline keeps chunk n of upload, data of at most
// wire.MaxInlineChunk bytes, until its commit stores it inside the entry's
// meta (docs/format.md, Inline chunks): in memory while the user's and the
// node's memory for them allow, else in a staged file as a larger chunk
// would be. It is core.ErrBusy (a *Refusal) when the user's uploads are at
// a limit of the budget.
func (u *UserDir) StageInline(upload string, n int, data []byte) error {
	if ok, err := u.up.keepMemory(upload, n, data); ok || err != nil {
		return err
	}
	sc, err := u.Stage(upload, n, int64(len(data)), true)
	if err != nil {
		return err
	}
	defer sc.Close()
	_, _ = sc.Write(data)
	if err := sc.Err(); err != nil {
		return err
	}
	if _, err := sc.Finish([32]byte{}); err != nil {
		return err
	}
	return sc.Keep()
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
