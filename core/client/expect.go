package client

import (
	"errors"
	"slices"

	"dfs/core"
	"dfs/core/wire"
)

// expected says which nodes should hold each chunk of a version being
// committed, before they answer: those that took the chunk under the
// commit's upload (staged: the commit asks them for it, wire.CommitReq.Need),
// and, for a segment kept from the base version (shared by id, never
// sent), those the base's entry said hold it (kept). Both are per segment
// of the committed meta; a nil slice knows nothing.
type expected struct {
	staged [][core.NumChunks][]int
	kept   [][core.NumChunks][]int
}

// need lists the chunks node n took under the upload (4*i+c for chunk c
// of segment i): its commit applies only if they are still staged there.
// Nodes drop staged chunks after a while (an idle upload, a restart); a
// commit without them would list segments the node does not hold.
func (x *expected) need(n int) []int {
	var need []int
	for i := range x.staged {
		for c, nodes := range x.staged[i] {
			if slices.Contains(nodes, n) {
				need = append(need, core.NumChunks*i+c)
			}
		}
	}
	return need
}

// holds reports whether node n is expected to hold chunk c of segment i.
func (x *expected) holds(i, c, n int) bool {
	return i < len(x.staged) && slices.Contains(x.staged[i][c], n) ||
		i < len(x.kept) && slices.Contains(x.kept[i][c], n)
}

// afterWave returns, per segment of segs, the nodes that hold or will hold
// each chunk once the waves still to come (rest) commit: the chunks the
// nodes that committed say they hold (held, nodes with errs[n] nil), and
// those the nodes of rest are expected to hold. When a node that committed
// lacks a chunk it was expected to hold (a kept segment the nodes swept:
// the base is older than their grace period, another client replaced it),
// what the others were expected to hold of that chunk is not trusted
// either, nor when such a node refused the commit for want of the chunks
// it took (the nodes drop an idle upload alike). A version with a chunk left without a copy must not reach rest:
// rest still holds the previous version whole.
func (x *expected) afterWave(segs []wire.Segment, held [][]uint8, errs []error, done, rest []int) [][core.NumChunks][]int {
	copies := make([][core.NumChunks][]int, len(segs))
	for i := range segs {
		sx := segs[i].X()
		for c := 0; c < core.NumChunks; c++ {
			lost := false
			for _, n := range done {
				if errors.Is(errs[n], core.ErrIncomplete) && x.holds(i, c, n) {
					lost = true // it refused the commit: what it took is gone
				}
				if errs[n] != nil || !core.NodeHolds(sx, n, c) {
					continue
				}
				if i < len(held[n]) && held[n][i]&(1<<c) != 0 {
					copies[i][c] = append(copies[i][c], n)
				} else if x.holds(i, c, n) {
					lost = true
				}
			}
			if lost {
				continue
			}
			for _, m := range rest {
				if errs[m] == nil && core.NodeHolds(sx, m, c) && x.holds(i, c, m) {
					copies[i][c] = append(copies[i][c], m)
				}
			}
		}
	}
	return copies
}
