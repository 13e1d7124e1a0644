package store

import "dfs/core/wire"

// Small chunks (wire.MaxInlineChunk) are kept in memory from PUT_CHUNK
// until their COMMIT, which writes them inside the entry's @meta when the
// file can keep them there (inlineable): a small file then costs one file
// written per node instead of three. A chunk beyond the memory the budget
// gives them (budget.go) waits in a staged file instead and is committed
// as a chunk file, and so is an inline chunk of a file that cannot keep it
// inline. A node restart forgets them and the commit holds fewer chunks,
// which the client sees in Held (a degraded put, healed later).

// inlineable reports whether r may keep chunks inline: its one stored
// segment is segment 0 and every chunk of it is at most
// wire.MaxInlineChunk bytes.
func inlineable(r *Record) bool {
	if !isFile(r) || len(r.Segments) != 1 || r.Segments[0].Index != 0 {
		return false
	}
	for _, c := range r.Segments[0].Chunks {
		if c.Size > wire.MaxInlineChunk {
			return false
		}
	}
	return true
}

// StageInline keeps chunk n of segment seg of upload, data of at most
// wire.MaxInlineChunk bytes, until its commit stores it inside the entry's
// meta (docs/format.md, Inline chunks): in memory while the user's and the
// node's memory for them allow, else in a staged file as a larger chunk
// would be. It is core.ErrBusy (a *Refusal) when the user's uploads are at
// a limit of the budget.
func (u *UserDir) StageInline(upload, seg string, n int, data []byte) error {
	if ok, err := u.up.keepMemory(upload, partKey{seg, n}, data); ok || err != nil {
		return err
	}
	sc, err := u.Stage(upload, seg, n, int64(len(data)), true)
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
