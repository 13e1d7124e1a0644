package store

import (
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// Update applies an update of kind op (wire.UpdateMkdir, UpdateSetattr,
// UpdateDelete or UpdateRmdir) with meta m to the entry at the cleaned path
// p, if its stamp is newer than the entry's (else core.ErrStale); heal is
// as in wire.UpdateReq. The entry keeps m's Seal as given: the client
// sealed what the node stores.
func (u *UserDir) Update(op, p string, meta wire.Meta, heal bool) error {
	m := recordOf(&meta)
	u.mu.Lock()
	defer u.mu.Unlock()
	steps, err := u.walk(p)
	if err != nil {
		return err
	}
	last := &steps[len(steps)-1]
	old := last.meta
	if old != nil && !supersedes(op, heal, m, old) {
		return refuse(core.ErrStale, "%s has a newer change on this node", p)
	}
	switch op {
	case wire.UpdateMkdir:
		err = u.mkdirEntry(steps, m, heal)
	case wire.UpdateSetattr:
		if !live(old) {
			return refuse(core.ErrNotFound, "%s: no such entry on this node", p)
		}
		if m.Born != "" && m.Born != old.Born {
			// Another entry at the name than the client's (an earlier
			// folder this node kept while it missed a remove and a
			// mkdir): the seal is of the client's; heal brings it.
			return refuse(core.ErrStale, "%s is another entry on this node", p)
		}
		if !old.Dir && m.Version != old.Version {
			// The seal covers the version's segments: one made for
			// another version would not hold over this one.
			return refuse(core.ErrStale, "%s changed on this node (version %s, not %s)", p, old.Version, m.Version)
		}
		full, ferr := u.full(last)
		if ferr != nil {
			return ferr
		}
		nm := *full
		// The whole attribute set of the request; an entry's type is
		// fixed at its creation.
		nm.Mode = full.Mode&wire.ModeType | m.Mode&wire.ModePerm
		nm.UID, nm.GID, nm.MTime, nm.ATime, nm.CTime, nm.Stamp = m.UID, m.GID, m.MTime, m.ATime, m.CTime, m.Stamp
		nm.Seal = m.Seal
		err = u.writeMeta(last.rel, &nm)
	case wire.UpdateDelete:
		if live(old) && old.Dir {
			return refuse(core.ErrIsDir, "%s is a folder", p)
		}
		err = u.tombstone(steps, tombOf(old, m, false))
	case wire.UpdateRmdir:
		if live(old) && !old.Dir {
			return refuse(core.ErrNotDir, "%s is a file", p)
		}
		if last.exists {
			if err := u.clearForRmdir(last, m.Stamp, heal); err != nil {
				return err
			}
		}
		err = u.tombstone(steps, tombOf(old, m, true))
	default:
		return refuse(ErrUnknownUpdate, "unknown update %q", op)
	}
	return err
}

// tombOf returns the tombstone a delete (dir false) or rmdir (dir true)
// with meta m leaves over old: m's stamp and seal, and m's Born, else the
// entry's, else the stamp. The request's Born comes first because the
// client sealed the tombstone with it.
func tombOf(old *Record, m Record, dir bool) Record {
	born := m.Born
	switch {
	case born != "":
	case old != nil && old.Born != "":
		born = old.Born
	default:
		born = m.Stamp
	}
	return Record{Dir: dir, Deleted: true, Stamp: m.Stamp, Born: born, Seal: m.Seal}
}

// tombstone writes the tombstone t (a record with Deleted) for the last
// step (creating its parents like a commit), releasing the segments of the
// file it replaces.
func (u *UserDir) tombstone(steps []step, t Record) error {
	stamp := t.Stamp
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
	// The tombstone first, and the segments are only released: readers
	// in the middle of the file finish it within the grace, and a crash
	// before the tombstone reached the disk finds the file whole again.
	u.asideInline(old, "")
	if err := u.writeMeta(last.rel, &t); err != nil {
		return err
	}
	if isFile(old) {
		u.segs.unref(segmentIDs(old), time.Now())
		u.count(-inlineBytes(old)) // set aside in memory
	}
	return u.bumpFolder(steps, stamp)
}

// Rename moves the entry at the cleaned path from, with everything under
// it, to the cleaned path to, replacing what is there, and leaves a
// tombstone stamped stamp at from. Neither may have a change as new as
// stamp (core.ErrStale). The moved entry takes seal and the tombstone
// tombSeal, as wire.RenameReq says.
func (u *UserDir) Rename(from, to, stamp, seal, tombSeal string) error {
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
		if st.meta != nil && st.meta.Stamp >= stamp {
			return refuse(core.ErrStale, "%s has a newer change on this node", st.path)
		}
	}
	wasDir := fl.meta != nil && fl.meta.Dir
	if live(fl.meta) {
		if err := u.moveEntry(fl, tsteps, stamp, seal); err != nil {
			return err
		}
	}
	// Walk again: the move took From's directory away.
	if fsteps, err = u.walk(from); err != nil {
		return err
	}
	return u.tombstone(fsteps, Record{Dir: wasDir, Deleted: true, Stamp: stamp, Born: stamp, Seal: tombSeal})
}

// moveEntry replaces the entry at the end of tsteps with the live entry
// from, restamps it and gives it seal.
func (u *UserDir) moveEntry(from *step, tsteps []step, stamp, seal string) error {
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
		// readers: its inline chunks are set aside like an overwrite's,
		// and removeAll releases its segments.
		told, err := u.full(tl)
		if err != nil {
			return err
		}
		u.asideInline(told, "")
		if err := u.removeAll(tl.rel); err != nil {
			return err
		}
	}
	if err := u.moveDir(from.rel, tl.rel); err != nil {
		return err
	}
	m := *fm
	// A rename changes the moved entry: its CTime is the rename's time,
	// exactly, which the client sealed.
	m.Stamp, m.CTime, m.Seal = stamp, core.VersionTime(stamp).UnixNano(), seal
	if err := u.writeMeta(tl.rel, &m); err != nil {
		return err
	}
	if err := u.bumpFolder(tsteps, stamp); err != nil {
		return err
	}
	if err := u.syncDir(parentRel(from.rel)); err != nil {
		return err
	}
	return u.syncDir(parentRel(tl.rel))
}

func parentRel(rel string) string { return rel[:len(rel)-len(core.Base(rel))-1] }

// Purge removes the tombstone at the cleaned path p if its stamp is still
// stamp and nothing is under it; anything else is left alone. With forged
// (wire.PurgeReq.Forged) a live entry stamped stamp goes too, releasing
// its segments, a folder only when nothing is under it.
func (u *UserDir) Purge(p, stamp string, forged bool) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	steps, err := u.walk(p)
	if err != nil {
		return err
	}
	last := steps[len(steps)-1]
	if last.meta != nil && (last.meta.Deleted || forged) && last.meta.Stamp == stamp {
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
	return nil
}
