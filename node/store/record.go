package store

import (
	"dfs/core"
	"dfs/core/wire"
)

// Record is an entry's meta as the node keeps it: an entry's @meta file is
// the JSON of its Record (docs/format.md), so the fields and their tags
// are the disk format, and data folders written before depend on them.
// It is what a node sends as wire.Meta without Path (an entry's path is
// its directory) and with the chunks kept inline, which never leave the
// node; recordOf and meta below are the one place where the two meet.
type Record struct {
	Dir     bool                        `json:"dir,omitempty"`
	Deleted bool                        `json:"deleted,omitempty"`
	Stamp   string                      `json:"stamp"`             // last change of this entry (a version id)
	Born    string                      `json:"born"`              // creation of the name
	Version string                      `json:"version,omitempty"` // content version; chunk files are named by it
	Size    int64                       `json:"size"`
	Mode    uint32                      `json:"mode"`  // permission bits
	MTime   int64                       `json:"mtime"` // unix nanoseconds
	MD5     string                      `json:"md5,omitempty"`
	Chunks  [core.NumChunks]ChunkRecord `json:"chunks"`
	Held    []int                       `json:"held,omitempty"` // chunks of Version this node holds that were good when last checked

	// Chunks of at most wire.MaxInlineChunk bytes kept here rather than
	// in chunk files of their own (see inline.go), by chunk index.
	Inline map[int][]byte `json:"inline,omitempty"`
}

// ChunkRecord describes one of a file version's chunks.
type ChunkRecord struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
}

// recordOf returns the record of a meta a client sent. Its Path is left
// out (an entry's place is its directory), and inline chunks are the
// node's to add: a meta has none.
func recordOf(m *wire.Meta) Record {
	r := Record{Dir: m.Dir, Deleted: m.Deleted, Stamp: m.Stamp, Born: m.Born, Version: m.Version,
		Size: m.Size, Mode: m.Mode, MTime: m.MTime, MD5: m.MD5, Held: m.Held}
	for i, c := range m.Chunks {
		r.Chunks[i] = ChunkRecord{Size: c.Size, SHA256: c.SHA256}
	}
	return r
}

// meta returns what a node tells of r, the entry at the user path p: every
// field but the inline chunks. Held is shared with r.
func (r *Record) meta(p string) wire.Meta {
	m := wire.Meta{Path: p, Dir: r.Dir, Deleted: r.Deleted, Stamp: r.Stamp, Born: r.Born, Version: r.Version,
		Size: r.Size, Mode: r.Mode, MTime: r.MTime, MD5: r.MD5, Held: r.Held}
	for i, c := range r.Chunks {
		m.Chunks[i] = wire.ChunkInfo{Size: c.Size, SHA256: c.SHA256}
	}
	return m
}
