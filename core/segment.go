package core

import (
	"bytes"
	"fmt"
)

// SegmentSize is the most bytes one segment of a file holds (docs/format.md,
// Segments, says why 4 MiB). A file is the sequence of segments
// [k*SegmentSize, (k+1)*SegmentSize) cut at its size; each stored segment
// is one unit of the proof of concept's scheme: four contiguous chunks
// placed by the MD5 of the segment's bytes on the seed's table.
const SegmentSize int64 = 4 << 20

// MaxFileSize is the largest file dfs stores: 256 GiB, 65,536 segments.
// A version's meta lists every stored segment (about 190 bytes each in
// the binary records of COMMIT requests and LIST and LOOKUP replies), and
// a meta travels whole in one frame: 65,536 segments take 12.5 MB, under
// the 16 MiB wire.MaxMetaFrame with a quarter to spare (docs/format.md,
// Segments, says more).
const MaxFileSize int64 = 256 << 30

// CheckFileSize returns an error wrapping ErrTooLarge if size is past
// MaxFileSize, else nil.
func CheckFileSize(size int64) error {
	if size > MaxFileSize {
		return fmt.Errorf("%w (this one would be %d bytes)", ErrTooLarge, size)
	}
	return nil
}

// NumSegments returns how many segments span a file of the given size:
// ceil(size / SegmentSize), 0 for an empty file.
func NumSegments(size int64) int64 {
	if size < 0 {
		panic(fmt.Sprintf("BUG: NumSegments(%d)", size))
	}
	return (size + SegmentSize - 1) / SegmentSize
}

// SegmentSpan returns the byte range [start, end) that segment k spans in a
// file of the given size: every segment but the last spans SegmentSize
// bytes. k must be below NumSegments(size).
func SegmentSpan(size, k int64) (start, end int64) {
	if k < 0 || k >= NumSegments(size) {
		panic(fmt.Sprintf("BUG: SegmentSpan(%d, %d)", size, k))
	}
	start = k * SegmentSize
	return start, min(start+SegmentSize, size)
}

// SegmentOf returns the segment that holds byte offset off.
func SegmentOf(off int64) int64 {
	if off < 0 {
		panic(fmt.Sprintf("BUG: SegmentOf(%d)", off))
	}
	return off / SegmentSize
}

// AllZero reports whether p holds zeros only: a segment of zeros is stored
// as a hole, neither sent nor kept.
func AllZero(p []byte) bool {
	// Every byte equals the next one and the first is zero (one
	// vectorised comparison, no block of zeros to compare with).
	return len(p) == 0 || p[0] == 0 && bytes.Equal(p[1:], p[:len(p)-1])
}

// ChunkOverhead is what a stored chunk holds beyond its share of the
// segment's bytes: chunks are stored encrypted (core/crypt: a 12-byte
// nonce and a 16-byte authentication tag), so chunk c of a segment of
// size s takes ChunkBounds(s, c)'s length plus ChunkOverhead bytes.
const ChunkOverhead = 28
