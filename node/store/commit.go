package store

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// implicitStamp stamps a folder a node made only because a change below it
// arrived where the folder was missing.
const implicitStamp = "000000000000000000000001"

// Commit makes an uploaded version the file at the cleaned path p: the
// upload's staged chunks move into the entry and m, a file's meta the
// caller checked, replaces it, unless the entry holds a newer stamp
// (core.ErrStale). With onlyNew it applies only where no live entry is
// (core.ErrExist), with need only if the upload brought those chunks
// (core.ErrIncomplete); a refused commit changes nothing. It returns the
// chunks of the new version this node holds.
func (u *UserDir) Commit(p, upload string, meta wire.Meta, onlyNew bool, need []int) ([]int, error) {
	m := recordOf(&meta)
	u.mu.Lock()
	defer u.mu.Unlock()
	steps, err := u.walk(p)
	if err != nil {
		return nil, err
	}
	last := &steps[len(steps)-1]
	if onlyNew && live(last.meta) {
		return nil, refuse(core.ErrExist, "%s exists on this node", p)
	}
	if n := u.up.hold(upload, need); n >= 0 {
		return nil, refuse(core.ErrIncomplete, "chunk %d of the upload is not on this node", n+1)
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
	var inline map[int][]byte
	if upload != "" {
		moved := false
		inline, err = u.up.take(upload, func(n int, size int64) error {
			dst := last.rel + "/" + chunkName(m.Version, n)
			// Counted as the entry's before it leaves the staged uploads
			// (which count it for the quota until take lets it go, after
			// the move), so that it is never out of the count; undone
			// when it does not move.
			replaced, _ := u.regularSize(dst)
			u.count(size-replaced, 0)
			err := u.root.Rename(stagedName(upload, n), dst)
			if err != nil {
				u.count(replaced-size, 0)
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil // not held, as if never sent
			}
			moved = moved || err == nil
			return err
		})
		if err != nil {
			return nil, err
		}
		if moved {
			if err := u.syncDir(last.rel); err != nil {
				return nil, err
			}
		}
	}
	old, err := u.full(last)
	if err != nil {
		return nil, err
	}
	takeInline(inline, old, &m)
	if live(old) && !old.Dir {
		u.asideInline(old, m.Version) // before the new meta: see asideInline
	}
	m.Held = u.held(last.rel, &m)
	if err := u.writeMeta(last.rel, &m); err != nil {
		return nil, err
	}
	u.count(inlineBytes(&m)-inlineBytes(old), 0) // old's went aside into memory, or stay in m
	// Only after the new meta is in place: the superseded chunks stay
	// readable for a grace period, for readers still on the old version.
	if live(old) && !old.Dir && old.Version != m.Version {
		if err := u.supersede(last.rel, m.Version); err != nil {
			return nil, err
		}
	}
	return slices.Clip(m.Held), nil
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
		m := &Record{Dir: true, Mode: 0o755, Stamp: stamp, Born: stamp, MTime: time.Now().UnixNano()}
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

// held lists the chunks of m's version present in rel whose header matches
// m's chunk size and SHA-256.
func (u *UserDir) held(rel string, m *Record) []int {
	out := []int{}
	if m.Version == "" {
		return out
	}
	for n := 0; n < core.NumChunks; n++ {
		if inlineHeld(m, n) {
			out = append(out, n)
			continue
		}
		cf, err := u.openChunk(rel + "/" + chunkName(m.Version, n))
		if err != nil {
			continue
		}
		h := cf.hdr
		cf.f.Close()
		ci := m.Chunks[n]
		if h.Index != n || h.Size != ci.Size || ci.SHA256 != "" && !strings.EqualFold(ci.SHA256, hex.EncodeToString(h.SHA256[:])) {
			continue
		}
		out = append(out, n)
	}
	return out
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
