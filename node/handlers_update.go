package node

import (
	"dfs/core"
	"dfs/core/wire"
)

// update applies a mkdir, setattr, delete or rmdir if its stamp is newer
// than the entry's.
func (c *session) update(body []byte) error {
	var req wire.UpdateReq
	if err := decode(body, &req); err != nil {
		return err
	}
	if err := c.applyUpdate(req); err != nil {
		return err
	}
	if err := c.durable(req.Sync); err != nil {
		return err
	}
	return c.send(wire.TypeUpdate, wire.Empty{})
}

func (c *session) applyUpdate(req wire.UpdateReq) error {
	req.Meta = req.Meta.Public() // node-only fields are the node's to set
	p, err := cleanPath(req.Path, false)
	if err != nil {
		return err
	}
	m := req.Meta
	if err := checkStamp("stamp", m.Stamp); err != nil {
		return err
	}
	if m.Born != "" {
		if err := checkStamp("born", m.Born); err != nil {
			return err
		}
	}
	u := c.us
	u.mu.Lock()
	defer u.mu.Unlock()
	steps, err := u.walk(p)
	if err != nil {
		return err
	}
	last := &steps[len(steps)-1]
	old := last.meta
	if old != nil && !supersedes(req, old) {
		return replyErr(wire.StatusStale, "%s has a newer change on this node", p)
	}
	switch req.Op {
	case wire.UpdateMkdir:
		err = u.mkdirEntry(steps, m, req.Heal)
	case wire.UpdateSetattr:
		if !live(old) {
			return replyErr(wire.StatusNotFound, "%s: no such entry on this node", p)
		}
		full, ferr := u.full(last)
		if ferr != nil {
			return ferr
		}
		nm := *full
		nm.Mode, nm.MTime, nm.Stamp = m.Mode, m.MTime, m.Stamp
		err = u.writeMeta(last.rel, &nm)
	case wire.UpdateDelete:
		if live(old) && old.Dir {
			return replyErr(wire.StatusIsDir, "%s is a folder", p)
		}
		err = u.tombstone(steps, m.Stamp, keptBorn(old, m), false)
	case wire.UpdateRmdir:
		if live(old) && !old.Dir {
			return replyErr(wire.StatusNotDir, "%s is a file", p)
		}
		if last.exists {
			if err := u.clearForRmdir(last, m.Stamp, req.Heal); err != nil {
				return err
			}
		}
		err = u.tombstone(steps, m.Stamp, keptBorn(old, m), true)
	default:
		return badRequest("unknown update %q", req.Op)
	}
	return err
}

// keptBorn is the Born of a tombstone replacing old: the entry's own, else
// the request's, else its stamp.
func keptBorn(old *wire.Meta, m wire.Meta) string {
	switch {
	case old != nil && old.Born != "":
		return old.Born
	case m.Born != "":
		return m.Born
	}
	return m.Stamp
}

// tombstone writes a tombstone for the last step (creating its parents like
// a commit) and removes its chunk files.
func (u *userStore) tombstone(steps []step, stamp, born string, dir bool) error {
	last := &steps[len(steps)-1]
	if err := u.ensureParents(steps, stamp); err != nil {
		return err
	}
	if !last.exists {
		if err := u.mkdir(last.rel); err != nil {
			return err
		}
	}
	old, err := u.full(last)
	if err != nil {
		return err
	}
	// The tombstone first, and the chunks are only set aside (superseded):
	// readers in the middle of the file finish it, and a crash before the
	// tombstone reached the disk finds the file whole again.
	u.asideInline(old, "")
	if err := u.writeMeta(last.rel, &wire.Meta{Dir: dir, Deleted: true, Stamp: stamp, Born: born}); err != nil {
		return err
	}
	return u.supersede(last.rel, "")
}

// rename moves an entry with everything under it and leaves a tombstone at
// its old name.
func (c *session) rename(body []byte) error {
	var req wire.RenameReq
	if err := decode(body, &req); err != nil {
		return err
	}
	if err := c.applyRename(req); err != nil {
		return err
	}
	if err := c.durable(req.Sync); err != nil {
		return err
	}
	return c.send(wire.TypeRename, wire.Empty{})
}

func (c *session) applyRename(req wire.RenameReq) error {
	from, err := cleanPath(req.From, false)
	if err != nil {
		return err
	}
	to, err := cleanPath(req.To, false)
	if err != nil {
		return err
	}
	if err := checkStamp("stamp", req.Stamp); err != nil {
		return err
	}
	if from == to || len(to) > len(from) && to[:len(from)+1] == from+"/" {
		return badRequest("cannot move %s into itself", from)
	}
	u := c.us
	u.mu.Lock()
	defer u.mu.Unlock()
	fsteps, err := u.walk(from)
	if err != nil {
		return err
	}
	tsteps, err := u.walk(to)
	if err != nil {
		return err
	}
	fl, tl := &fsteps[len(fsteps)-1], &tsteps[len(tsteps)-1]
	for _, st := range []*step{fl, tl} {
		if st.meta != nil && st.meta.Stamp >= req.Stamp {
			return replyErr(wire.StatusStale, "%s has a newer change on this node", st.path)
		}
	}
	wasDir := fl.meta != nil && fl.meta.Dir
	if live(fl.meta) {
		if err := u.moveEntry(fl, tsteps, req.Stamp); err != nil {
			return err
		}
	}
	// Walk again: the move took From's directory away.
	if fsteps, err = u.walk(from); err != nil {
		return err
	}
	return u.tombstone(fsteps, req.Stamp, req.Stamp, wasDir)
}

// moveEntry replaces the entry at the end of tsteps with the live entry
// from and restamps it.
func (u *userStore) moveEntry(from *step, tsteps []step, stamp string) error {
	tl := &tsteps[len(tsteps)-1]
	if err := u.ensureParents(tsteps, stamp); err != nil {
		return err
	}
	fm, err := u.full(from)
	if err != nil {
		return err
	}
	if tl.exists {
		// A file replaced by the rename (an editor's save) may have
		// readers: its chunks are set aside like an overwrite's.
		told, err := u.full(tl)
		if err != nil {
			return err
		}
		if live(told) && !told.Dir {
			u.asideInline(told, "")
			if err := u.supersede(tl.rel, ""); err != nil {
				return err
			}
		}
		if err := u.removeAll(tl.rel); err != nil {
			return err
		}
	}
	if err := u.rename(from.rel, tl.rel); err != nil {
		return err
	}
	m := *fm
	m.Stamp = stamp
	if err := u.writeMeta(tl.rel, &m); err != nil {
		return err
	}
	if err := u.syncDir(parentRel(from.rel)); err != nil {
		return err
	}
	return u.syncDir(parentRel(tl.rel))
}

func parentRel(rel string) string { return rel[:len(rel)-len(core.Base(rel))-1] }

// purge removes a tombstone once every node has it; anything else is left
// alone and still answered OK, so purges can be repeated.
func (c *session) purge(body []byte) error {
	var req wire.PurgeReq
	if err := decode(body, &req); err != nil {
		return err
	}
	p, err := cleanPath(req.Path, false)
	if err != nil {
		return err
	}
	u := c.us
	u.mu.Lock()
	defer u.mu.Unlock()
	steps, err := u.walk(p)
	if err != nil {
		return err
	}
	last := steps[len(steps)-1]
	if last.meta != nil && last.meta.Deleted && last.meta.Stamp == req.Stamp {
		names, err := u.readNames(last.rel)
		if err != nil {
			return err
		}
		children := false
		for _, n := range names {
			if _, ok := unescapeComponent(n); ok {
				children = true
			}
		}
		if !children {
			if err := u.removeAll(last.rel); err != nil {
				return err
			}
			if err := u.syncDir(parentRel(last.rel)); err != nil {
				return err
			}
		}
	}
	return c.send(wire.TypePurge, wire.Empty{})
}
