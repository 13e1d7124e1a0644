package client

import (
	"slices"
	"strings"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// State is how well a file's newest version is stored.
type State int

// States of a file, from best to worst.
const (
	StateOK         State = iota // every chunk has two good copies
	StateDegraded                // every chunk has at least one copy; some only one
	StateIncomplete              // some chunk has no copy on the nodes that answered
)

func (s State) String() string {
	return [...]string{"ok", "degraded", "incomplete"}[s]
}

// Entry is the merged view of one file or folder across the nodes.
//
// A file's content is Size bytes: its stored Segments (sorted by Index) and
// zeros everywhere else (docs/format.md, Segments). Copies and State are
// per stored segment: Copies[i][c] lists the nodes holding a good copy of
// chunk c of Segments[i].
type Entry struct {
	Name     string
	Dir      bool
	Deleted  bool // a tombstone: the newest change removed the entry
	Size     int64
	Mode     uint32 // the 12 permission bits, plus the type bits of a special entry (wire.ModeSymlink, ModeFIFO, ModeSocket)
	MTime    time.Time
	ATime    time.Time // last access as set by a client (reads do not change it); MTime for entries older than it
	CTime    time.Time // last change of content or attributes; MTime for entries older than it
	UID, GID uint32    // numeric owner and group, as the creator gave them
	Target   string    // a symlink's target (Size is its length)
	Version  string    // content version (files): names the list of segments
	Stamp    string    // newest change
	Born     string
	Segments []wire.Segment
	Copies   [][core.NumChunks][]int   // per segment, nodes holding a good copy of each chunk of Version
	State    State                     // the worst over all segments; StateOK with none
	Raw      [core.NumNodes]*wire.Meta // what each node reported (nil: nothing or no answer)
	// Seal authenticates the entry (wire.Meta.Seal) as the name in the
	// folder born ParentBorn, the folder it was found in: heal copies it
	// with the entry.
	Seal, ParentBorn string
	sealedTarget     string // Target as the nodes store it (wire.Meta.SealedTarget)
	// on is, for a folder, the nodes that hold it as merged (its Born,
	// sealed), one bit per node: what sealerAt needs of Raw, kept when a
	// listing drops Raw (lean).
	on uint8
}

// Stored returns the bytes the file's stored segments hold (each copy
// counted once): what its holes do not cost.
func (e *Entry) Stored() int64 {
	var n int64
	for i := range e.Segments {
		n += e.Segments[i].Size
	}
	return n
}

// SegmentState returns how well stored segment i (a position in
// Segments) is.
func (e *Entry) SegmentState(i int) State { return stateOf(e.Copies[i]) }

// choose merges the metas the nodes hold for one path. The newest stamp
// decides whether the entry is live, a folder, or deleted; on equal stamps
// the newest Born (a setattr that stamped a folder alike on a node still
// holding an earlier folder at the name: the later folder is the real one,
// and nodes order a mkdir the same way). For a file, the newest content
// version that can be reassembled from the nodes' copies is chosen, falling
// back to older ones (a writer killed mid-commit), and to the newest one
// marked incomplete when none is whole.
func choose(name string, metas [core.NumNodes]*wire.Meta) (Entry, bool) {
	for n, m := range metas {
		if m != nil && (wire.CheckSegments(m) != nil || wire.CheckAttrs(m) != nil) {
			metas[n] = nil // a meta no node may hold: as if the node had not answered
		}
	}
	var top *wire.Meta
	for _, m := range metas {
		if m != nil && (top == nil || m.Stamp > top.Stamp || m.Stamp == top.Stamp && m.Born > top.Born) {
			top = m
		}
	}
	if top == nil {
		return Entry{}, false
	}
	if top.Deleted {
		e := fromMeta(name, top)
		e.Deleted, e.Raw = true, metas
		return e, false
	}
	if top.Dir {
		e := fromMeta(name, top)
		folderTimes(&e, metas)
		e.Raw = metas
		return e, true
	}
	// Group file metas by content version and segment list, newest stamp
	// first. A version names its list of segments, so the nodes holding
	// one list the same ids; a node that lists others under the same
	// version (it should not) makes a group of its own, so that held bits
	// only ever count for the list they describe, whichever meta of the
	// group is the newest.
	type group struct {
		best   *wire.Meta
		copies [][core.NumChunks][]int
	}
	var groups []*group
	for n, m := range metas {
		if m == nil || m.Deleted || m.Dir {
			continue
		}
		var g *group
		for _, h := range groups {
			if h.best.Version == m.Version && sameSegments(h.best.Segments, m.Segments) {
				g = h
			}
		}
		if g == nil {
			g = &group{best: m, copies: make([][core.NumChunks][]int, len(m.Segments))}
			groups = append(groups, g)
		}
		if m.Stamp > g.best.Stamp {
			g.best = m
		}
		for i, bits := range m.Held {
			if i >= len(g.copies) {
				break
			}
			for c := 0; c < core.NumChunks; c++ {
				if bits&(1<<c) != 0 && !slices.Contains(g.copies[i][c], n) {
					g.copies[i][c] = append(g.copies[i][c], n)
				}
			}
		}
	}
	// Newest stamp first; on equal stamps (an attribute change stamped
	// each node's own version alike) the newer content first.
	slices.SortFunc(groups, func(a, b *group) int {
		if c := strings.Compare(b.best.Stamp, a.best.Stamp); c != 0 {
			return c
		}
		return strings.Compare(b.best.Version, a.best.Version)
	})
	pick := groups[0]
	for _, g := range groups {
		if stateOfAll(g.copies) != StateIncomplete {
			pick = g
			break
		}
	}
	e := fromMeta(name, pick.best)
	e.Copies = pick.copies
	e.State = stateOfAll(pick.copies)
	e.Raw = metas
	return e, true
}

// sameSegments reports whether two lists name the same stored segments.
func sameSegments(a, b []wire.Segment) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Index != b[i].Index {
			return false
		}
	}
	return true
}

// stateOfAll is the worst state over a version's segments.
func stateOfAll(copies [][core.NumChunks][]int) State {
	s := StateOK
	for i := range copies {
		s = max(s, stateOf(copies[i]))
	}
	return s
}

// stateOf is one segment's state.
func stateOf(copies [core.NumChunks][]int) State {
	s := StateOK
	for _, c := range copies {
		switch {
		case len(c) == 0:
			return StateIncomplete
		case len(c) == 1:
			s = StateDegraded
		}
	}
	return s
}

func fromMeta(name string, m *wire.Meta) Entry {
	e := Entry{
		Name: name, Dir: m.Dir, Size: m.Size, Mode: m.Mode, MTime: time.Unix(0, m.MTime),
		ATime: time.Unix(0, m.ATime), CTime: time.Unix(0, m.CTime), UID: m.UID, GID: m.GID, Target: m.Target,
		Version: m.Version, Stamp: m.Stamp, Born: m.Born, Segments: m.Segments, Seal: m.Seal, sealedTarget: m.SealedTarget,
	}
	// The times are the meta's, 0 included (an atime set to the epoch):
	// metaOf gives heal, read repair and rename the entry back, and its
	// seal covers them as stored. A folder's size is not sealed (core/crypt,
	// SealEntry), so none is shown.
	if e.Dir {
		e.Size = 0
	}
	return e
}

// folderTimes gives a folder the latest MTime and CTime among the live
// folder metas of its Born: nodes move a folder's times forward when an
// entry inside it is made, removed or renamed, without a new stamp (docs/
// protocol.md, Attributes), so a node that missed such a change holds
// older times under the same stamp. Metas of an older stamp do not count:
// a setattr after the change set the times it wanted.
func folderTimes(e *Entry, metas [core.NumNodes]*wire.Meta) {
	for _, m := range metas {
		if m == nil || m.Deleted || !m.Dir || m.Born != e.Born || m.Stamp != e.Stamp {
			continue
		}
		if t := time.Unix(0, m.MTime); t.After(e.MTime) {
			e.MTime = t
		}
		if m.CTime != 0 {
			if t := time.Unix(0, m.CTime); t.After(e.CTime) {
				e.CTime = t
			}
		}
	}
}

// mergeAt is choose for a path in a folder born at parentBorn. Metas older
// than the folder are leftovers a node kept from before the folder was
// removed and made again and do not count; a tombstone keeps them in Raw,
// though, so that heal replays the delete there too. A folder a node made
// itself (nodeMade) never counts either, at any depth: it is unsealed, so
// anyone could have made it, and nothing under it verifies. A name only
// such folders hold does not exist; they stay in Raw, so that heal and
// mkdir know the node holds something there.
func mergeAt(name string, metas [core.NumNodes]*wire.Meta, parentBorn string) (Entry, bool) {
	all := metas
	dropStale(&metas, parentBorn)
	e, live := choose(name, metas)
	e.ParentBorn = parentBorn
	for n, m := range all {
		if e.Deleted || nodeMade(m) {
			e.Raw[n] = m
		}
		if r := e.Raw[n]; live && e.Dir && r != nil && !r.Deleted && r.Dir && r.Born == e.Born {
			e.on |= 1 << n
		}
	}
	return e, live
}

// dropStale removes metas older than their folder's birth (leftovers a
// node kept from before the folder was removed and made again) and the
// folders nodes made themselves.
func dropStale(metas *[core.NumNodes]*wire.Meta, parentBorn string) {
	for i, m := range metas {
		if m != nil && (m.Stamp < parentBorn || nodeMade(m)) {
			metas[i] = nil
		}
	}
}

// nodeMade reports a folder a node made itself, for a change it got below
// a folder whose mkdir it missed (stub_names.go, implicit).
func nodeMade(m *wire.Meta) bool {
	return m != nil && m.Seal == "" && m.Dir && !m.Deleted && m.Stamp == implicitStamp && m.Born == implicitStamp
}

// SegmentAt returns stored segment k (an index in the file, in segments),
// nil when k is a hole.
func (e *Entry) SegmentAt(k int64) *wire.Segment {
	if i := findSegment(e.Segments, k); i >= 0 {
		return &e.Segments[i]
	}
	return nil
}
