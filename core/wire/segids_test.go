package wire

import (
	"errors"
	"testing"

	"dfs/core"
)

// TestCheckSegmentsUniqueIDs: a list naming one segment id twice is bad,
// whatever else is right about it.
func TestCheckSegmentsUniqueIDs(t *testing.T) {
	const S = core.SegmentSize
	a, b := goodSegment(0, S), goodSegment(2, 5)
	m := Meta{Size: 2*S + 5, Segments: []Segment{a, b}}
	if err := CheckSegments(&m); err != nil {
		t.Fatalf("distinct ids: %v", err)
	}
	b.ID = a.ID
	m.Segments = []Segment{a, b}
	if err := CheckSegments(&m); !errors.Is(err, ErrBadSegments) {
		t.Fatalf("one id twice: %v", err)
	}
}
