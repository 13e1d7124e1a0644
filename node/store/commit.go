package store

import (
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// implicitStamp stamps a folder a node made only because a change below it
// arrived where the folder was missing.
const implicitStamp = "000000000000000000000001"

// Commit makes an uploaded version the file at the cleaned path p: m, a
// file's meta the caller checked (wire.CheckSegments), replaces the
// entry, unless the entry holds a newer stamp (core.ErrStale). Each of m's
// segments is taken from the upload (its staged chunks move into the
// segments folder) or shared with what the node already holds under its
// id, never copied. With onlyNew it applies only where no live entry is
// (core.ErrExist), with need (4*i+c: chunk c of m.Segments[i]) only if the
// upload brought those chunks (core.ErrIncomplete); a refused commit
// changes nothing. It returns the chunks of m's segments this node holds
// (wire.Meta.Held).
func (u *UserDir) Commit(p, upload string, meta wire.Meta, onlyNew bool, need []int) ([]uint8, error) {
	m := recordOf(&meta)
	if i, j, dup := duplicateSegment(&m); dup {
		// Two segments with one id would share chunk files.
		return nil, refuse(ErrBadMeta, "segments %d and %d have the same id %s", m.Segments[i].Index, m.Segments[j].Index, m.Segments[i].ID)
	}
	keys := make([]partKey, len(need))
	for i, n := range need {
		if n < 0 || n >= core.NumChunks*len(m.Segments) {
			return nil, refuse(core.ErrIncomplete, "chunk %d of the upload is not on this node", n)
		}
		keys[i] = partKey{m.Segments[n/core.NumChunks].ID, n % core.NumChunks}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	steps, err := u.walk(p)
	if err != nil {
		return nil, err
	}
	last := &steps[len(steps)-1]
	newName := !live(last.meta)
	if onlyNew && live(last.meta) {
		return nil, refuse(core.ErrExist, "%s exists on this node", p)
	}
	if i := u.up.hold(upload, keys); i >= 0 {
		return nil, refuse(core.ErrIncomplete, "chunk %d of segment %d of the upload is not on this node",
			need[i]%core.NumChunks, m.Segments[need[i]/core.NumChunks].Index)
	}
	defer u.up.unhold(upload)
	if old := last.meta; old != nil {
		if old.Stamp > m.Stamp {
			u.up.drop(upload)
			return nil, refuse(core.ErrStale, "%s has a newer version on this node", p)
		}
		if live(old) && old.Dir {
			return nil, refuse(core.ErrIsDir, "%s is a folder", p)
		}
	}
	if err := u.ensureParents(steps, m.Stamp); err != nil {
		if r, ok := err.(*Refusal); ok && r.Err == core.ErrStale {
			u.up.drop(upload)
		}
		return nil, err
	}
	if !last.exists {
		if err := u.mkdir(last.rel); err != nil {
			return nil, err
		}
	} else if last.meta == nil || last.meta.Dir {
		// A folder tombstone (or a bare directory) becomes a file: what was
		// under it is older than this commit.
		if err := u.removeChildren(last.rel); err != nil {
			return nil, err
		}
	}
	old, err := u.full(last)
	if err != nil {
		return nil, err
	}
	if err := u.gather(upload, &m, old); err != nil {
		return nil, err
	}
	oldFile := isFile(old)
	if oldFile {
		keep := ""
		if len(m.Inline) > 0 {
			keep = m.Segments[0].ID
		}
		u.asideInline(old, keep) // before the new meta: see asideInline
	}
	ids := segmentIDs(&m)
	u.segs.ref(ids) // before old's go: a shared segment is never released
	if err := u.writeMeta(last.rel, &m); err != nil {
		u.segs.unref(ids, time.Now())
		return nil, err
	}
	var oldInline int64
	if oldFile {
		u.segs.unref(segmentIDs(old), time.Now())
		oldInline = inlineBytes(old)
	}
	u.count(inlineBytes(&m) - oldInline) // old's went aside into memory, or stay in m
	if newName {
		if err := u.bumpFolder(steps, m.Stamp); err != nil {
			return nil, err
		}
	}
	return u.held(&m, inlineMask(&m)), nil
}

// duplicateSegment finds two of r's segments with the same id.
func duplicateSegment(r *Record) (i, j int, dup bool) {
	seen := make(map[string]int, len(r.Segments))
	for j, s := range r.Segments {
		if i, ok := seen[s.ID]; ok {
			return i, j, true
		}
		seen[s.ID] = j
	}
	return 0, 0, false
}

// gather brings m's chunks to this node as far as it can, before m is
// written: the upload's staged chunks of m's segments move into the
// segments folder (those of other segments go with the upload), its
// chunks in memory and the chunks old (the entry's current full record,
// nil if none) keeps inline go into m.Inline when m can keep them inline
// (inlineable), else into chunk files; so do inline chunks of m's
// segment 0 still set aside. Only chunks matching m's size and SHA-256
// are taken. A chunk file already present is shared as it is.
func (u *UserDir) gather(upload string, m, old *Record) error {
	want := map[partKey]ChunkRecord{}
	for _, s := range m.Segments {
		for c, ci := range s.Chunks {
			want[partKey{s.ID, c}] = ci
		}
	}
	var mem map[partKey][]byte
	if upload != "" {
		var err error
		mem, err = u.up.take(upload, func(k partKey, staged string, size int64, sum [32]byte) error {
			ci, ok := want[k]
			if !ok || ci.Size != size || !hexEq(sum[:], ci.SHA256) {
				return nil // not this commit's: it goes with the upload
			}
			return u.moveIn(staged, k.seg, k.n, size, sum)
		})
		if err != nil {
			return err
		}
	}
	inline := inlineable(m)
	m.Inline = nil
	for i := range m.Segments {
		s := &m.Segments[i]
		for c := range core.NumChunks {
			ci := s.Chunks[c]
			k := partKey{s.ID, c}
			data, ok := mem[k]
			if !ok || !matches(data, ci) {
				data, ok = inlineOf(old, s.ID, c)
			}
			if !ok || !matches(data, ci) {
				if u.segs.has(s.ID, c, ci) {
					continue
				}
				data, ok = u.asideChunk(s.ID, c)
			}
			if !ok || !matches(data, ci) {
				continue
			}
			if inline {
				if m.Inline == nil {
					m.Inline = map[int][]byte{}
				}
				m.Inline[c] = data
			} else if !u.segs.has(s.ID, c, ci) {
				if err := u.writeChunkFile(s.ID, c, data); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// inlineOf returns chunk c of segment id if the record r keeps it inline.
func inlineOf(r *Record, id string, c int) ([]byte, bool) {
	if !isFile(r) || len(r.Segments) == 0 || r.Segments[0].ID != id {
		return nil, false
	}
	data, ok := r.Inline[c]
	return data, ok
}

// asideChunk returns chunk c of segment id if it is an inline chunk set
// aside (gc.go).
func (u *UserDir) asideChunk(id string, c int) ([]byte, bool) {
	if u.old == nil {
		return nil, false
	}
	return u.old.inlineChunk(oldKey(u.user, id, c))
}

// ensureParents checks the ancestors of a change stamped stamp and makes
// the missing or tombstoned ones live folders born at stamp. A tombstoned
// ancestor newer than stamp makes the change stale (core.ErrStale); a file in the way is
// core.ErrNotDir. steps are from walk and are updated.
func (u *UserDir) ensureParents(steps []step, stamp string) error {
	parents := steps[:len(steps)-1]
	for _, st := range parents {
		if st.meta == nil {
			continue
		}
		if st.meta.Deleted && st.meta.Stamp > stamp {
			return refuse(core.ErrStale, "%s was removed by a newer change", st.path)
		}
		if !st.meta.Deleted && !st.meta.Dir {
			return refuse(core.ErrNotDir, "%s is a file", st.path)
		}
	}
	for i := range parents {
		st := &parents[i]
		if live(st.meta) {
			continue
		}
		if !st.exists {
			if err := u.mkdir(st.rel); err != nil {
				return err
			}
			st.exists = true
		}
		// Times from the change, not the clock: every node makes the
		// same folder from the same change.
		t := core.VersionTime(stamp).UnixNano()
		m := &Record{Dir: true, Mode: 0o755, Stamp: stamp, Born: stamp, MTime: t, ATime: t, CTime: t}
		if st.meta == nil {
			// Made only because it was missing here (this node was down
			// or blank when the folder was made): the oldest possible
			// stamp, so the folder's real meta on other nodes wins the
			// merge and its children are not taken for leftovers.
			m.Stamp, m.Born = implicitStamp, implicitStamp
		}
		if err := u.writeMeta(st.rel, m); err != nil {
			return err
		}
		st.meta = m
	}
	return nil
}

// removeChildren removes every child entry directory of rel (names not
// starting with a single "@").
func (u *UserDir) removeChildren(rel string) error {
	names, err := u.readNames(rel)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, ok := unescapeComponent(n); ok {
			if err := u.removeAll(rel + "/" + n); err != nil {
				return err
			}
		}
	}
	return nil
}

// DropUpload removes what an upload brought, in staged files and in
// memory, whose commit will not come (wire.DropReq): the same drop as
// when the user's last connection closes or the upload sits idle
// (budget.go), so the budget and the quota both let go of it.
func (u *UserDir) DropUpload(upload string) {
	u.mu.Lock() // not in the middle of a commit of the same upload
	defer u.mu.Unlock()
	u.up.drop(upload)
}
