package store

import (
	"dfs/core"
	"dfs/core/wire"
)

// A folder's identity is its Born stamp: clients ignore what a node holds
// under a folder that is older than the folder's Born (core's dropStale), as
// leftovers of an earlier folder at the name. The rules here keep the nodes
// in step with that view, so that such leftovers are removed rather than
// brought back when the node's folder meta changes.

// supersedes reports whether an update applies over the node's entry old:
// its stamp is newer, or, for heal's mkdir over a live folder with the
// same stamp, its Born is newer. The second is a later folder at the name
// that a setattr stamped alike with an earlier one this node still had
// (core's merge picks the newer Born likewise).
func supersedes(op string, heal bool, m Record, old *Record) bool {
	if m.Stamp != old.Stamp {
		return m.Stamp > old.Stamp
	}
	return heal && op == wire.UpdateMkdir && live(old) && old.Dir && m.Born > old.Born
}

// mkdirEntry creates a folder, or resurrects a tombstone as one. With heal
// it also makes a live folder at the name this one, meta and Born included:
// one the node kept while it missed a remove and a new mkdir, or made itself
// for a change below it (see ensureParents). Either way what is left under
// the name and older than the new Born belongs to the earlier folder, which
// clients already ignore, and is removed. A client's mkdir over a live
// folder is core.ErrExist: two clients making one folder at once must not
// remove each other's first files.
func (u *UserDir) mkdirEntry(steps []step, m Record, heal bool) error {
	last := &steps[len(steps)-1]
	old := last.meta
	if live(old) && (!old.Dir || !heal) {
		return refuse(core.ErrExist, "%s already exists", last.path)
	}
	if err := u.ensureParents(steps, m.Stamp); err != nil {
		return err
	}
	if m.Born == "" {
		m.Born = m.Stamp
	}
	if last.exists {
		if old == nil || old.Deleted || old.Born != m.Born {
			if err := u.removeOlder(last.rel, m.Born); err != nil {
				return err
			}
		}
	} else if err := u.mkdir(last.rel); err != nil {
		return err
	}
	m.Dir, m.Deleted, m.Version, m.Segments, m.Inline = true, false, "", nil, nil
	if err := u.writeMeta(last.rel, &m); err != nil {
		return err
	}
	return u.bumpFolder(steps, m.Stamp)
}

// bumpFolder moves the times of the folder holding the last of steps (a
// name made, removed or renamed by a change stamped stamp) forward to the
// change's time, core.VersionTime(stamp), leaving its stamp as it is: every
// node computes the same times from the same changes, whatever their
// order, and a replay changes nothing. The top folder has no record, and
// its times are not kept.
func (u *UserDir) bumpFolder(steps []step, stamp string) error {
	if len(steps) < 2 {
		return nil
	}
	st := &steps[len(steps)-2]
	if !live(st.meta) || !st.meta.Dir {
		return nil
	}
	t := core.VersionTime(stamp).UnixNano()
	if st.meta.MTime >= t && st.meta.CTime >= t {
		return nil
	}
	m := *st.meta // a folder keeps nothing inline
	m.MTime, m.CTime = max(m.MTime, t), max(m.CTime, t)
	if err := u.writeMeta(st.rel, &m); err != nil {
		return err
	}
	st.meta = &m
	return nil
}

// clearForRmdir checks that the folder last can be removed by an rmdir
// stamped stamp: it must hold no live entry. For heal, replaying a removal
// this node missed, only live entries as new as the removal count, and the
// older ones, removed on the other nodes while this one was away, are
// removed here too.
func (u *UserDir) clearForRmdir(last *step, stamp string, heal bool) error {
	since := ""
	if heal {
		since = stamp
	}
	busy, err := u.liveUnder(last.rel, since)
	if err != nil {
		return err
	}
	if busy {
		return refuse(core.ErrNotEmpty, "%s is not empty", last.path)
	}
	if heal {
		return u.removeOlder(last.rel, stamp)
	}
	return nil
}

// liveUnder reports whether the folder rel holds a live entry, at any
// depth, stamped since or later (any live entry for ""). A folder a node
// made only for a change below it (implicitStamp) has no age of its own: for
// a since it counts only through what is under it.
func (u *UserDir) liveUnder(rel, since string) (bool, error) {
	names, err := u.readNames(rel)
	if err != nil {
		return false, err
	}
	for _, n := range names {
		if _, ok := unescapeComponent(n); !ok {
			continue
		}
		cr := rel + "/" + n
		if ok, err := u.statDir(cr); err != nil || !ok {
			return false, err
		}
		cm, _, err := u.readMeta(cr)
		if err != nil {
			return false, err
		}
		if live(cm) && (since == "" || cm.Stamp >= since && cm.Stamp != implicitStamp) {
			return true, nil
		}
		// A tombstone, a bare directory or an older folder may still hold
		// newer live entries.
		if busy, err := u.liveUnder(cr, since); err != nil || busy {
			return busy, err
		}
	}
	return false, nil
}

// removeOlder removes the entries under the folder rel stamped before
// born. Folders a node made only for a change below them (implicitStamp)
// and bare directories have no age of their own: what is under them is
// judged the same way, and they go when that leaves them empty.
func (u *UserDir) removeOlder(rel, born string) error {
	_, err := u.pruneOlder(rel, born)
	return err
}

// pruneOlder is removeOlder, reporting whether rel holds no entry after.
func (u *UserDir) pruneOlder(rel, born string) (empty bool, err error) {
	names, err := u.readNames(rel)
	if err != nil {
		return false, err
	}
	empty = true
	for _, n := range names {
		if _, ok := unescapeComponent(n); !ok {
			continue
		}
		cr := rel + "/" + n
		if ok, err := u.statDir(cr); err != nil {
			return false, err
		} else if !ok {
			continue
		}
		cm, _, err := u.readMeta(cr)
		if err != nil {
			return false, err
		}
		gone := false
		switch {
		case cm == nil || cm.Stamp == implicitStamp:
			gone, err = u.pruneOlder(cr, born)
		case cm.Stamp < born:
			gone = true
		}
		if err != nil {
			return false, err
		}
		if !gone {
			empty = false
		} else if err := u.removeAll(cr); err != nil {
			return false, err
		}
	}
	return empty, nil
}
