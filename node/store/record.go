package store

import (
	"dfs/core"
	"dfs/core/wire"
)

// Record is an entry's meta as the node keeps it: an entry's @meta file is
// the JSON of its Record (docs/format.md), so the fields and their tags
// are the disk format. It is what a node sends as wire.Meta without Path
// (an entry's path is its directory) and Held (computed when it is sent,
// from what the node holds: see UserDir.held), and with the chunks kept
// inline, which never leave the node; recordOf and meta below are the one
// place where the two meet.
type Record struct {
	Dir      bool            `json:"dir,omitempty"`
	Deleted  bool            `json:"deleted,omitempty"`
	Stamp    string          `json:"stamp"`             // last change of this entry (a version id)
	Born     string          `json:"born"`              // creation of the name
	Version  string          `json:"version,omitempty"` // content version: names this list of segments
	Size     int64           `json:"size"`
	Mode     uint32          `json:"mode"`             // permission bits and a special entry's type bits (wire.ModeType)
	MTime    int64           `json:"mtime"`            // unix nanoseconds
	UID      uint32          `json:"uid,omitempty"`    // numeric owner
	GID      uint32          `json:"gid,omitempty"`    // numeric group
	ATime    int64           `json:"atime,omitempty"`  // unix ns; 0 in older records
	CTime    int64           `json:"ctime,omitempty"`  // unix ns; 0 in older records
	Target   string          `json:"target,omitempty"` // a symlink's target
	Segments []SegmentRecord `json:"segments,omitempty"`
	Seal     string          `json:"seal,omitempty"` // the client's seal of the entry (wire.Meta.Seal), kept as given

	// Chunks of segment 0 of at most wire.MaxInlineChunk bytes kept here
	// rather than in chunk files of their own (see inline.go), by chunk
	// index; only in a file whose one stored segment is segment 0 with
	// chunks that small (inlineable).
	Inline map[int][]byte `json:"inline,omitempty"`
}

// SegmentRecord is one stored segment of a file version: wire.Segment's
// fields under the same names.
type SegmentRecord struct {
	Index  int64                       `json:"index"`
	ID     string                      `json:"id"`
	Size   int64                       `json:"size"`
	MD5    string                      `json:"md5"`
	Chunks [core.NumChunks]ChunkRecord `json:"chunks"`
}

// ChunkRecord describes one of a segment's chunks.
type ChunkRecord struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
}

// recordOf returns the record of a meta a client sent. Its Path is left
// out (an entry's place is its directory), Held is the node's to compute,
// and inline chunks are the node's to add: a meta has none.
func recordOf(m *wire.Meta) Record {
	r := Record{Dir: m.Dir, Deleted: m.Deleted, Stamp: m.Stamp, Born: m.Born, Version: m.Version,
		Size: m.Size, Mode: m.Mode, MTime: m.MTime, UID: m.UID, GID: m.GID, ATime: m.ATime, CTime: m.CTime,
		Target: m.Target, Seal: m.Seal}
	if len(m.Segments) > 0 {
		r.Segments = make([]SegmentRecord, len(m.Segments))
	}
	for i, s := range m.Segments {
		sr := SegmentRecord{Index: s.Index, ID: s.ID, Size: s.Size, MD5: s.MD5}
		for c, ci := range s.Chunks {
			sr.Chunks[c] = ChunkRecord{Size: ci.Size, SHA256: ci.SHA256}
		}
		r.Segments[i] = sr
	}
	return r
}

// meta returns what a node tells of r, the entry at the user path p: every
// field but the inline chunks, and Held as given (nil for none).
func (r *Record) meta(p string, held []uint8) wire.Meta {
	m := wire.Meta{Path: p, Dir: r.Dir, Deleted: r.Deleted, Stamp: r.Stamp, Born: r.Born, Version: r.Version,
		Size: r.Size, Mode: r.Mode, MTime: r.MTime, UID: r.UID, GID: r.GID, ATime: r.ATime, CTime: r.CTime,
		Target: r.Target, Seal: r.Seal, Held: held}
	if len(r.Segments) > 0 {
		m.Segments = make([]wire.Segment, len(r.Segments))
	}
	for i, s := range r.Segments {
		ws := wire.Segment{Index: s.Index, ID: s.ID, Size: s.Size, MD5: s.MD5}
		for c, ci := range s.Chunks {
			ws.Chunks[c] = wire.ChunkInfo{Size: ci.Size, SHA256: ci.SHA256}
		}
		m.Segments[i] = ws
	}
	return m
}

// isFile reports whether r is a live file: one that lists segments.
func isFile(r *Record) bool { return r != nil && !r.Deleted && !r.Dir }

// segmentIDs returns the ids of r's segments when r is a live file.
func segmentIDs(r *Record) []string {
	if !isFile(r) {
		return nil
	}
	ids := make([]string, len(r.Segments))
	for i, s := range r.Segments {
		ids[i] = s.ID
	}
	return ids
}
