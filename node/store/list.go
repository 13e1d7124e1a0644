package store

import (
	"dfs/core"
	"dfs/core/wire"
)

// Lookup returns the metas of the cleaned path p's ancestors and of p
// itself, root first, up to the first one the node has no entry for.
func (u *UserDir) Lookup(p string) ([]wire.Meta, error) {
	steps, err := u.walk(p)
	if err != nil {
		return nil, err
	}
	return u.chain(steps), nil
}

// Listing is a folder about to be listed.
type Listing struct {
	u     *UserDir
	rel   string      // the folder's directory
	path  string      // its user path
	Chain []wire.Meta // the metas of the folder's ancestors and itself, root first (see Lookup)
}

// List finds the folder at the cleaned path p ("" is the root) for a
// listing: a missing one is refused with core.ErrNotFound, a file with
// core.ErrNotDir.
func (u *UserDir) List(p string) (*Listing, error) {
	steps, err := u.walk(p)
	if err != nil {
		return nil, err
	}
	rel := filesDir
	if len(steps) > 0 {
		last := steps[len(steps)-1]
		if !last.exists {
			return nil, refuse(core.ErrNotFound, "%s: no such folder on this node", p)
		}
		if last.meta != nil && !last.meta.Dir {
			return nil, refuse(core.ErrNotDir, "%s is a file", p)
		}
		rel = last.rel
	}
	return &Listing{u: u, rel: rel, path: p, Chain: u.chain(steps)}, nil
}

// Entries returns the metas, Path set, of the folder's children, and of
// their descendants when recursive, in the order of a walk by name. It
// holds the user's lock, so that no rename or delete moves entries under
// it meanwhile: a listing that silently missed entries would mislead heal.
func (l *Listing) Entries(recursive bool) ([]wire.Meta, error) {
	l.u.mu.Lock()
	defer l.u.mu.Unlock()
	var out []wire.Meta
	err := l.u.listUnder(&out, l.rel, l.path, recursive)
	return out, err
}

// listUnder adds to out the children of the folder rel (user path p), and
// their descendants when recursive. Symlinks and stray files are skipped,
// never followed. The metas come from the user's cache; only those it
// lacks are read from disk.
func (u *UserDir) listUnder(out *[]wire.Meta, rel, p string, recursive bool) error {
	ents, err := u.readDir(rel)
	if err != nil {
		return err
	}
	for _, de := range ents {
		name, ok := unescapeComponent(de.Name())
		if !ok {
			continue
		}
		cr, cp := rel+"/"+de.Name(), core.Join(p, name)
		if !de.IsDir() {
			u.log.Warn("skipping a non-directory in the data folder", "user", u.user, "path", cp)
			continue
		}
		m, inline, err := u.readMeta(cr)
		if err != nil {
			u.log.Warn("skipping an unreadable entry", "user", u.user, "path", cp, "err", err)
			continue
		}
		if m != nil {
			*out = append(*out, m.meta(cp, u.held(m, inline)))
		}
		if recursive {
			if err := u.listUnder(out, cr, cp, true); err != nil {
				return err
			}
		}
	}
	return nil
}
