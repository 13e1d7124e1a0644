package node

import (
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// implicitStamp stamps a folder a node made only because a change below it
// arrived where the folder was missing.
const implicitStamp = "000000000000000000000001"

// ensureParents checks the ancestors of a change stamped stamp and makes
// the missing or tombstoned ones live folders born at stamp. A tombstoned
// ancestor newer than stamp makes the change stale; a file in the way is
// StatusNotDir. steps are from walk and are updated.
func (u *userStore) ensureParents(steps []step, stamp string) error {
	parents := steps[:len(steps)-1]
	for _, st := range parents {
		if st.meta == nil {
			continue
		}
		if st.meta.Deleted && st.meta.Stamp > stamp {
			return replyErr(wire.StatusStale, "%s was removed by a newer change", st.path)
		}
		if !st.meta.Deleted && !st.meta.Dir {
			return replyErr(wire.StatusNotDir, "%s is a file", st.path)
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
		m := &wire.Meta{Dir: true, Mode: 0o755, Stamp: stamp, Born: stamp, MTime: time.Now().UnixNano()}
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
func (u *userStore) removeChildren(rel string) error {
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
func (u *userStore) held(rel string, m *wire.Meta) []int {
	out := []int{}
	if m.Version == "" {
		return out
	}
	for n := 0; n < core.NumNodes; n++ {
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

func (u *userStore) removeStaged(upload string) {
	if upload == "" {
		return
	}
	for n := 0; n < core.NumNodes; n++ {
		_ = u.root.Remove(stagedName(upload, n))
	}
}

// commit makes an uploaded version current for a path.
func (c *session) commit(body []byte) error {
	var req wire.CommitReq
	if err := decode(body, &req); err != nil {
		return err
	}
	held, err := c.applyCommit(req)
	if err != nil {
		return err
	}
	if err := c.durable(req.Sync); err != nil {
		return err
	}
	return c.send(wire.TypeCommit, wire.CommitResp{Held: held})
}

// applyCommit applies a commit under the user's lock and returns the
// chunks of the new version this node holds.
func (c *session) applyCommit(req wire.CommitReq) ([]int, error) {
	req.Meta = req.Meta.Public() // node-only fields are the node's to set
	p, err := cleanPath(req.Path, false)
	if err != nil {
		return nil, err
	}
	m := req.Meta
	if err := checkStamp("stamp", m.Stamp); err != nil {
		return nil, err
	}
	if err := checkStamp("version", m.Version); err != nil {
		return nil, err
	}
	if m.Dir || m.Deleted || m.Size < 0 {
		return nil, badRequest("a commit must describe a file")
	}
	if req.Upload != "" && !validUpload(req.Upload) {
		return nil, badRequest("invalid upload id")
	}

	u := c.us
	u.mu.Lock()
	defer u.mu.Unlock()
	steps, err := u.walk(p)
	if err != nil {
		return nil, err
	}
	last := &steps[len(steps)-1]
	if req.New && live(last.meta) {
		return nil, replyErr(wire.StatusExist, "%s exists on this node", p)
	}
	for _, n := range req.Need {
		if n < 0 || n > 3 || !c.staged(req.Upload, n) {
			return nil, replyErr(wire.StatusIncomplete, "chunk %d of the upload is not on this node", n+1)
		}
	}
	if old := last.meta; old != nil {
		if old.Stamp > m.Stamp {
			u.removeStaged(req.Upload)
			c.dropInline(req.Upload)
			return nil, replyErr(wire.StatusStale, "%s has a newer version on this node", p)
		}
		if live(old) && old.Dir {
			return nil, replyErr(wire.StatusIsDir, "%s is a folder", p)
		}
	}
	if err := u.ensureParents(steps, m.Stamp); err != nil {
		if re, ok := err.(*reqError); ok && re.status == wire.StatusStale {
			u.removeStaged(req.Upload)
			c.dropInline(req.Upload)
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
	if req.Upload != "" {
		moved := false
		for n := 0; n < core.NumNodes; n++ {
			if c.s.inline.has(inlineKey(c.user, req.Upload, n)) {
				continue // in memory, not in a staged file
			}
			src := stagedName(req.Upload, n)
			ok, err := u.statFile(src)
			if err != nil || !ok {
				continue
			}
			if err := u.root.Rename(src, last.rel+"/"+chunkName(m.Version, n)); err != nil {
				return nil, err
			}
			moved = true
		}
		if moved {
			if err := u.syncDir(last.rel); err != nil {
				return nil, err
			}
		}
	}
	m.Path = ""
	old, err := u.full(last)
	if err != nil {
		return nil, err
	}
	c.takeInline(req.Upload, old, &m)
	if live(old) && !old.Dir {
		u.asideInline(old, m.Version) // before the new meta: see asideInline
	}
	m.Held = u.held(last.rel, &m)
	if err := u.writeMeta(last.rel, &m); err != nil {
		return nil, err
	}
	// Only after the new meta is in place: the superseded chunks stay
	// readable for a grace period, for readers still on the old version.
	if live(old) && !old.Dir && old.Version != m.Version {
		if err := u.supersede(last.rel, m.Version); err != nil {
			return nil, err
		}
	}
	return slices.Clip(m.Held), nil
}

// staged reports whether chunk n of upload is waiting for its commit here.
func (c *session) staged(upload string, n int) bool {
	if upload == "" {
		return false
	}
	if c.s.inline.has(inlineKey(c.user, upload, n)) {
		return true
	}
	ok, _ := c.us.statFile(stagedName(upload, n))
	return ok
}

// durable waits, when want is set, until everything this node applied so
// far is on its disk.
func (c *session) durable(want bool) error {
	if !want {
		return nil
	}
	if err := c.s.flusher.sync(); err != nil {
		return replyErr(wire.StatusInternal, "node %s could not write to its disk: %v", c.s.cfg.Name, err)
	}
	return nil
}
