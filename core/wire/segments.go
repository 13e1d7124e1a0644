package wire

import (
	"errors"
	"fmt"

	"dfs/core"
)

// ErrBadSegments is wrapped by CheckSegments' errors.
var ErrBadSegments = errors.New("bad segment list")

// CheckSegments checks that m's segments describe a file of m.Size: indexes
// strictly increasing and below core.NumSegments(m.Size), each segment's
// Size between 1 and its span, IDs version ids, an MD5 (32 hex digits) and
// four chunks, each with a SHA-256 (64 hex digits) and the size it is
// stored in: its share of the segment as core.ChunkBounds splits it plus
// core.ChunkOverhead (chunks are stored encrypted); m.Size at most
// core.MaxFileSize. Folders and tombstones have no segments. Nodes check
// every meta a client commits; clients check every meta a node sends.
func CheckSegments(m *Meta) error {
	if m.Dir || m.Deleted {
		if len(m.Segments) > 0 {
			return fmt.Errorf("%w: a folder or tombstone with %d segments", ErrBadSegments, len(m.Segments))
		}
		return nil
	}
	if m.Size < 0 || m.Size > core.MaxFileSize {
		return fmt.Errorf("%w: size %d (files are 0 to %d bytes)", ErrBadSegments, m.Size, core.MaxFileSize)
	}
	n := core.NumSegments(m.Size)
	prev := int64(-1)
	for i := range m.Segments {
		s := &m.Segments[i]
		if s.Index <= prev || s.Index >= n {
			return fmt.Errorf("%w: segment %d at index %d (after %d, a file of %d segments)", ErrBadSegments, i, s.Index, prev, n)
		}
		prev = s.Index
		start, end := core.SegmentSpan(m.Size, s.Index)
		if s.Size < 1 || s.Size > end-start {
			return fmt.Errorf("%w: segment %d holds %d bytes of a span of %d", ErrBadSegments, s.Index, s.Size, end-start)
		}
		if !core.ValidVersion(s.ID) {
			return fmt.Errorf("%w: segment %d has id %q", ErrBadSegments, s.Index, s.ID)
		}
		if len(s.MD5) != 32 || !isLowerHex(s.MD5) {
			return fmt.Errorf("%w: segment %d has md5 %q", ErrBadSegments, s.Index, s.MD5)
		}
		for c := range s.Chunks {
			if want := StoredChunkSize(s.Size, c); s.Chunks[c].Size != want {
				return fmt.Errorf("%w: segment %d chunk %d holds %d bytes, not %d", ErrBadSegments, s.Index, c, s.Chunks[c].Size, want)
			}
			if h := s.Chunks[c].SHA256; len(h) != 64 || !isLowerHex(h) {
				return fmt.Errorf("%w: segment %d chunk %d has sha256 %q", ErrBadSegments, s.Index, c, h)
			}
		}
	}
	return checkUniqueIDs(m)
}

// StoredChunkSize is the size chunk c of a segment of size bytes is stored
// in (ChunkInfo.Size): its share of the segment (core.ChunkBounds) and
// core.ChunkOverhead, the nonce and tag of its encryption; an empty share
// takes core.ChunkOverhead bytes.
func StoredChunkSize(size int64, c int) int64 {
	s, e := core.ChunkBounds(size, c)
	return e - s + core.ChunkOverhead
}

// X returns the segment's placement x (core.PlacementX of its MD5); 0 for
// an MD5 that is not hex (CheckSegments refuses those).
func (s *Segment) X() int {
	if len(s.MD5) != 32 {
		return 0
	}
	return int(hexNibble[s.MD5[31]] % core.NumChunks)
}
