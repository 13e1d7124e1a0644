package client

import (
	"testing"

	"dfs/core"
	"dfs/core/wire"
)

// TestLocate maps offsets of a sparse file to chunks and zeros.
func TestLocate(t *testing.T) {
	S := core.SegmentSize
	size := 3*S + 5
	segs := []wire.Segment{{Index: 0, Size: S}, {Index: 2, Size: 100}, {Index: 3, Size: 5}}
	cases := []struct {
		off  int64
		want piece
	}{
		{0, piece{seg: 0, ch: 0, chunkOff: 0, n: S / 4}},
		{S/4 + 1, piece{seg: 0, ch: 1, chunkOff: 1, n: S/4 - 1}},
		{S - 1, piece{seg: 0, ch: 3, chunkOff: S/4 - 1, n: 1}},
		{S, piece{seg: -1, n: S}}, // segment 1 is a hole
		{2*S + 99, piece{seg: 1, ch: 3, chunkOff: 24, n: 1}},
		{2*S + 100, piece{seg: -1, n: S - 100}}, // past what segment 2 stores
		{3 * S, piece{seg: 2, ch: 0, chunkOff: 0, n: 1}},
		{3*S + 4, piece{seg: 2, ch: 3, chunkOff: 1, n: 1}},
	}
	for _, c := range cases {
		if got := locate(segs, size, c.off); got != c.want {
			t.Errorf("locate(%d) = %+v, want %+v", c.off, got, c.want)
		}
	}
	// An empty list: all zeros to the end.
	if got := locate(nil, 10, 3); got != (piece{seg: -1, n: 7}) {
		t.Errorf("hole file: %+v", got)
	}
	if findSegment(segs, 1) != -1 || findSegment(segs, 2) != 1 {
		t.Error("findSegment")
	}
}
