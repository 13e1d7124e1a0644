package node

import (
	"bytes"
	"fmt"
	"testing"

	"dfs/core"
)

// TestSegmentsRoundTrip: files of no, one and many segments (the last one
// short) commit, list, look up and read back chunk by chunk, every chunk
// held.
func TestSegmentsRoundTrip(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	for _, size := range []int{0, 10, 100 << 10, int(core.SegmentSize), int(2*core.SegmentSize) + 12345} {
		data := testData(size, byte(size))
		p := fmt.Sprintf("d/f%d", size)
		m, held, err := c.upload(p, data)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if len(m.Segments) != int(core.NumSegments(int64(size))) || !bytes.Equal(held, allHeld(len(m.Segments))) {
			t.Fatalf("size %d: %d segments, held %v", size, len(m.Segments), held)
		}
		got, err := c.readAll(p, m)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back %d bytes, %v", size, len(got), err)
		}
		ch := c.lookup(p)
		last := ch[len(ch)-1]
		if last.Version != m.Version || len(last.Segments) != len(m.Segments) || !bytes.Equal(last.Held, allHeld(len(m.Segments))) {
			t.Fatalf("size %d: lookup %+v", size, last)
		}
	}
	_, ents, err := c.list("d", false)
	if err != nil || len(ents) != 5 {
		t.Fatalf("list: %d entries, %v", len(ents), err)
	}
	for _, e := range ents {
		if !bytes.Equal(e.Held, allHeld(len(e.Segments))) {
			t.Errorf("%s: held %v of %d segments", e.Path, e.Held, len(e.Segments))
		}
	}
}
