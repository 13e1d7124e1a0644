package mount

import (
	"fmt"

	"dfs/core"
)

// segRange is the part of a byte range that falls in one segment.
type segRange struct {
	k      int64 // the segment
	off    int64 // where the range starts in the segment
	lo, hi int   // its bounds in the whole range's buffer
}

// segRanges cuts the n bytes at off at segment boundaries. It is pure: the
// spool's reads and writes go segment by segment through it.
func segRanges(off int64, n int) []segRange {
	if off < 0 || n < 0 {
		panic(fmt.Sprintf("BUG: segRanges(%d, %d)", off, n))
	}
	var ps []segRange
	for lo := 0; lo < n; {
		k := core.SegmentOf(off + int64(lo))
		in := off + int64(lo) - k*core.SegmentSize
		hi := lo + int(min(int64(n-lo), core.SegmentSize-in))
		ps = append(ps, segRange{k: k, off: in, lo: lo, hi: hi})
		lo = hi
	}
	return ps
}

// cutSegment returns the segment a shrink to size cuts into (it keeps its
// start only), or -1 when size falls on a segment boundary.
func cutSegment(size int64) int64 {
	if size%core.SegmentSize == 0 {
		return -1
	}
	return core.SegmentOf(size)
}

// fitWrite returns the part of p, written at off, that ends at
// core.MaxFileSize at most, as a local filesystem cuts a write at its
// largest file: all of p below it, its start when p crosses it, and
// core.ErrTooLarge when p starts there or past it (an empty p is fine
// anywhere).
func fitWrite(p []byte, off int64) ([]byte, error) {
	switch room := core.MaxFileSize - off; {
	case len(p) == 0 || int64(len(p)) <= room:
		return p, nil
	case room <= 0:
		return nil, core.CheckFileSize(off + int64(len(p)))
	default:
		return p[:room], nil
	}
}
