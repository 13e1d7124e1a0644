package client

import (
	"sort"

	"dfs/core"
	"dfs/core/wire"
)

// Range arithmetic of a file stored as segments, apart from any I/O: where
// a byte of the file lies (a chunk of a stored segment, or zeros).

// piece is a run of a file's bytes that lies in one place: one chunk of
// one stored segment, or zeros (a hole, or the end of a segment's span
// past what it stores, or past the file's end).
type piece struct {
	seg      int   // position in the segment list; -1: zeros
	ch       int   // chunk of the segment (seg >= 0)
	chunkOff int64 // offset in the chunk (seg >= 0)
	n        int64 // bytes from the offset asked for, at least 1
}

// locate returns the piece holding byte off of a file of size bytes
// (off < size) stored as segs (sorted by Index, as wire.CheckSegments
// wants).
func locate(segs []wire.Segment, size, off int64) piece {
	k := core.SegmentOf(off)
	i := sort.Search(len(segs), func(i int) bool { return segs[i].Index >= k })
	if i < len(segs) && segs[i].Index == k {
		in := off - k*core.SegmentSize
		if in < segs[i].Size {
			ch := core.ChunkOf(segs[i].Size, in)
			cs, ce := core.ChunkBounds(segs[i].Size, ch)
			return piece{seg: i, ch: ch, chunkOff: in - cs, n: ce - in}
		}
		i++ // past what segment k stores: zeros up to the next one
	}
	end := size
	if i < len(segs) {
		end = min(end, segs[i].Index*core.SegmentSize)
	}
	return piece{seg: -1, n: end - off}
}

// findSegment returns the position of the stored segment with index k in
// segs, or -1 when k is a hole.
func findSegment(segs []wire.Segment, k int64) int {
	i := sort.Search(len(segs), func(i int) bool { return segs[i].Index >= k })
	if i < len(segs) && segs[i].Index == k {
		return i
	}
	return -1
}

// segmentStart is the file offset where segment s begins.
func segmentStart(s *wire.Segment) int64 { return s.Index * core.SegmentSize }

// zeros is a block of zeros, to write holes from.
var zeros [64 << 10]byte
