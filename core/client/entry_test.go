package client

import (
	"slices"
	"strings"
	"testing"

	"dfs/core"
	"dfs/core/wire"
)

// testSeg is a well-formed stored segment k of size bytes placed by x.
func testSeg(k, size int64, x int) wire.Segment {
	s := wire.Segment{Index: k, ID: core.NewVersion(), Size: size, MD5: strings.Repeat("0", 31) + string("0123"[x])}
	for c := range s.Chunks {
		cs, ce := core.ChunkBounds(size, c)
		s.Chunks[c] = wire.ChunkInfo{Size: ce - cs + core.ChunkOverhead, SHA256: strings.Repeat("a", 64)}
	}
	return s
}

// metaOn is the meta node n would send for a version of segs, holding
// what the placement gives it but the chunks in lose (segment position ->
// chunks).
func metaOn(n int, stamp, version string, size int64, segs []wire.Segment, lose map[int][]int) *wire.Meta {
	m := &wire.Meta{Stamp: stamp, Born: stamp, Version: version, Size: size, Segments: segs, Held: make([]uint8, len(segs))}
	for i := range segs {
		for _, c := range core.NodeChunks(segs[i].X(), n) {
			if !slices.Contains(lose[i], c) {
				m.Held[i] |= 1 << c
			}
		}
	}
	return m
}

// TestChooseSegments: the merge per segment. A version is whole when every
// chunk of every segment has a copy on some node; its state is the worst
// of its segments'; the newest whole version wins over a newer one that is
// not; a node whose meta is malformed counts as no answer.
func TestChooseSegments(t *testing.T) {
	S := core.SegmentSize
	size := 3*S + 5
	old := []wire.Segment{testSeg(0, S, 0), testSeg(1, S, 1), testSeg(3, 5, 2)} // segment 2 a hole
	nw := slices.Clone(old)
	nw[1] = testSeg(1, S, 3) // one segment changed, the others shared
	v1, v2 := core.NewVersion(), core.NewVersion()

	t.Run("all whole", func(t *testing.T) {
		var metas [core.NumNodes]*wire.Meta
		for n := range metas {
			metas[n] = metaOn(n, v2, v2, size, nw, nil)
		}
		e, live := choose("f", metas)
		if !live || e.Version != v2 || e.State != StateOK || len(e.Copies) != 3 {
			t.Fatalf("got %v %v %v %d", live, e.Version, e.State, len(e.Copies))
		}
		for i := range e.Copies {
			for c := range e.Copies[i] {
				if len(e.Copies[i][c]) != 2 {
					t.Fatalf("segment %d chunk %d: copies %v", i, c, e.Copies[i][c])
				}
			}
		}
	})

	t.Run("one node down: degraded", func(t *testing.T) {
		var metas [core.NumNodes]*wire.Meta
		for n := 1; n < core.NumNodes; n++ {
			metas[n] = metaOn(n, v2, v2, size, nw, nil)
		}
		e, _ := choose("f", metas)
		if e.Version != v2 || e.State != StateDegraded {
			t.Fatalf("got %v %v", e.Version, e.State)
		}
		if d, inc := e.SegmentStates(); d != 3 || inc != 0 {
			t.Fatalf("segment states %d degraded %d incomplete", d, inc)
		}
	})

	t.Run("one segment degraded", func(t *testing.T) {
		var metas [core.NumNodes]*wire.Meta
		for n := range metas {
			var lose map[int][]int
			if n == 2 {
				lose = map[int][]int{2: {core.NodeChunks(nw[2].X(), 2)[0]}}
			}
			metas[n] = metaOn(n, v2, v2, size, nw, lose)
		}
		e, _ := choose("f", metas)
		if e.State != StateDegraded || e.SegmentState(0) != StateOK || e.SegmentState(2) != StateDegraded {
			t.Fatalf("got %v, segments %v %v", e.State, e.SegmentState(0), e.SegmentState(2))
		}
	})

	t.Run("new version missing a chunk: the old one is served", func(t *testing.T) {
		// The writer died after the first wave: DFS1 and DFS3 have the new
		// version, but DFS1 lost a chunk of its changed segment, which
		// DFS3 does not hold.
		var metas [core.NumNodes]*wire.Meta
		x := nw[1].X()
		for _, n := range []int{0, 2} {
			var lose map[int][]int
			if n == 0 {
				chs := core.NodeChunks(x, 0)
				lose = map[int][]int{1: chs[:]}
			}
			metas[n] = metaOn(n, v2, v2, size, nw, lose)
		}
		for _, n := range []int{1, 3} {
			metas[n] = metaOn(n, v1, v1, size, old, nil)
		}
		e, _ := choose("f", metas)
		// The old version is whole on DFS2+DFS4, one copy of each chunk.
		if e.Version != v1 || e.State != StateDegraded {
			t.Fatalf("got version %v state %v, want the old one whole", e.Version == v2, e.State)
		}
	})

	t.Run("new version whole on the first wave", func(t *testing.T) {
		var metas [core.NumNodes]*wire.Meta
		for _, n := range []int{0, 2} {
			metas[n] = metaOn(n, v2, v2, size, nw, nil)
		}
		for _, n := range []int{1, 3} {
			metas[n] = metaOn(n, v1, v1, size, old, nil)
		}
		e, _ := choose("f", metas)
		if e.Version != v2 || e.State != StateDegraded {
			t.Fatalf("got new=%v state %v", e.Version == v2, e.State)
		}
	})

	t.Run("a malformed meta is no answer", func(t *testing.T) {
		var metas [core.NumNodes]*wire.Meta
		for n := range metas {
			metas[n] = metaOn(n, v2, v2, size, nw, nil)
		}
		bad := *metas[3]
		bad.Stamp = core.NewVersion()                   // newest, so it would win
		bad.Segments = []wire.Segment{testSeg(5, S, 0)} // past the end
		metas[3] = &bad
		e, live := choose("f", metas)
		if !live || e.Version != v2 || e.State != StateDegraded || e.Raw[3] != nil {
			t.Fatalf("got %v %v raw %v", e.Version == v2, e.State, e.Raw[3] != nil)
		}
	})

	t.Run("no segments", func(t *testing.T) {
		var metas [core.NumNodes]*wire.Meta
		metas[1] = &wire.Meta{Stamp: v2, Born: v2, Version: v2, Size: 10 * S}
		e, live := choose("f", metas)
		if !live || e.State != StateOK || e.Stored() != 0 {
			t.Fatalf("a hole file: %v %v %d", live, e.State, e.Stored())
		}
	})
}

// TestMissingOn: heal copies to a node the chunks its meta does not show
// held under the same segment id, so segments shared with an older
// version it holds are not copied again.
func TestMissingOn(t *testing.T) {
	S := core.SegmentSize
	a, b, c := testSeg(0, S, 0), testSeg(1, S, 1), testSeg(1, S, 2)
	v1, v2 := core.NewVersion(), core.NewVersion()
	e := &Entry{Version: v2, Size: 2 * S, Segments: []wire.Segment{a, c}}
	raw := metaOn(0, v1, v1, 2*S, []wire.Segment{a, b}, nil)
	got := missingOn(e, raw, 0)
	var want []segChunk
	for _, ch := range core.NodeChunks(c.X(), 0) {
		want = append(want, segChunk{1, ch})
	}
	if !slices.Equal(got, want) {
		t.Fatalf("missing %v, want %v", got, want)
	}
	if got := missingOn(e, nil, 0); len(got) != 4 {
		t.Fatalf("a node without the entry misses %v", got)
	}
}

// TestChooseSameVersionOtherSegments: a node listing other segments under
// the same version (with a newer stamp) is not counted as holding the
// list the others hold, nor they its list: the groups stay apart, and the
// list that is whole is chosen.
func TestChooseSameVersionOtherSegments(t *testing.T) {
	S := core.SegmentSize
	a := []wire.Segment{testSeg(0, S, 0)}
	b := []wire.Segment{testSeg(0, S, 1)}
	v, s1, s2 := core.NewVersion(), core.NewVersion(), core.NewVersion()
	var metas [core.NumNodes]*wire.Meta
	metas[0] = metaOn(0, s1, v, S, a, nil)
	metas[1] = metaOn(1, s2, v, S, b, nil) // newer stamp, other list
	metas[2] = metaOn(2, s1, v, S, a, nil)
	e, live := choose("f", metas)
	if !live || !sameSegments(e.Segments, a) || e.State != StateDegraded { // one copy each, on DFS1 and DFS3
		t.Fatalf("chose %v (state %v), want the whole list", e.Segments, e.State)
	}
	for c := range e.Copies[0] {
		if slices.Contains(e.Copies[0][c], 1) {
			t.Errorf("chunk %d counts DFS2, which lists other segments", c)
		}
	}
}
