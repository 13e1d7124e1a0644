package client

import (
	"context"
	"errors"
	"fmt"
	"path"

	"dfs/core"
	"dfs/core/crypt"
	"dfs/core/wire"
)

// A client seals every entry it gives a new stamp (crypt.SealEntry): the
// entry as the nodes will store it, bound to its name and to the Born of
// its folder. Heal copies entries with their seals and never seals one.

// sealer seals the metas of one path.
type sealer struct {
	k          *crypt.Keys
	name       string // the last component
	parentBorn string // the Born of the folder holding it; "" for the top folder
}

// seal encrypts m's symlink target (once) and sets m.Seal for m as the
// nodes will store it.
func (s sealer) seal(m *wire.Meta) {
	if m.Target != "" && m.SealedTarget == "" && !m.Deleted {
		m.SealedTarget = s.k.EncryptTarget(m.Target)
	}
	w := onWire(*m)
	w.Seal, w.Held, w.Path = "", nil, ""
	m.Seal = s.k.SealEntry(s.name, s.parentBorn, &w)
}

// entry is m's entry at the path, as it was sealed.
func (s sealer) entry(name string, m *wire.Meta) Entry {
	e := fromMeta(name, m)
	e.ParentBorn = s.parentBorn
	return e
}

// committed gives the entry of a commit's result the Born of the folder it
// was sealed in.
func (s sealer) committed(res PutResult, err error) (PutResult, error) {
	if res.Entry.ParentBorn == "" {
		res.Entry.ParentBorn = s.parentBorn
	}
	return res, err
}

// sealerAt returns the sealer of entries at name, whose folder must be a
// live folder: its Born comes from the listing cache (c.names). With
// parents (a put), missing folders above name are made first, as by
// mkdir -p, owned by uid and gid: a folder a node makes itself is unsealed,
// and so invisible. Every caller commits a new entry at name next, so the
// folder is first given to the nodes that lack it (holdFolder).
func (c *Client) sealerAt(ctx context.Context, name string, parents *owner) (sealer, error) {
	k, err := c.keyring(ctx)
	if err != nil {
		return sealer{}, err
	}
	s := sealer{k: k, name: path.Base(name)}
	dir := core.Parent(name)
	if dir == "" {
		return s, nil
	}
	var e Entry
	if parents != nil {
		e, err = c.mkdirAll(ctx, dir, *parents)
	} else {
		e, err = c.names.Folder(ctx, dir)
	}
	if err != nil {
		return sealer{}, err
	}
	if !e.Dir {
		return sealer{}, fmt.Errorf("%s: %w", dir, core.ErrNotDir)
	}
	s.parentBorn = c.holdFolder(ctx, e).Born
	return s, nil
}

// holdFolder gives dir, the folder a new entry is about to be committed
// in, to every node that does not hold it as merged (a sealed folder of
// its Born), and the folders above it likewise, as heal does (healDir).
// Such a node missed the mkdir, or holds an earlier folder, or one it made
// itself: for the commit it would make the folder itself (node
// ensureParents), and nothing under a folder a node made verifies, so the
// entry would be lost there though the commit succeeded.
//
// dir says which nodes hold it (Entry.on, which the listing cache keeps
// where it drops Raw): when all do, or the others are being skipped, as
// usual, this costs nothing, and a mount making many files pays nothing
// per file. Otherwise the nodes are asked for dir's chain afresh (what
// said so may predate a node's return or a heal) and the refreshed entry
// goes back into the listing cache, so only the first commit after a node
// comes back pays a LOOKUP; while a node is down but not yet skipped, each
// commit does. Best effort: a node that fails here fails the commit too,
// or is brought up to date by heal. It returns dir as the nodes hold it
// now (as given when it could not tell).
func (c *Client) holdFolder(ctx context.Context, dir Entry) Entry {
	if dir.Name == "" || !c.lacking(dir.on) {
		return dir
	}
	chains, errs := c.lookupOn(ctx, allNodes, dir.Name)
	var up []int
	for n, err := range errs {
		if err == nil {
			up = append(up, n)
		}
	}
	var failed error
	var rep HealReport
	e, _, err := chainEntry(dir.Name, chains, func(level *Entry) {
		if failed == nil && level.Dir {
			failed = c.healDir(ctx, level, up, &rep)
		}
	})
	if err != nil || !e.Dir {
		return dir
	}
	if failed == nil {
		for _, n := range up {
			e.on |= 1 << n
		}
		c.names.held(e)
	}
	return e
}

// lacking reports whether a node that is not being skipped is missing
// from on (Entry.on).
func (c *Client) lacking(on uint8) bool {
	for n := range allNodes {
		if on&(1<<n) == 0 && !c.nodes[n].isDown() {
			return true
		}
	}
	return false
}

// sealerOf returns the sealer of e's path, from the folder e was found in
// when it says (a listing's or lookup's entry does), else from the nodes.
func (c *Client) sealerOf(ctx context.Context, e *Entry) (sealer, error) {
	if e.ParentBorn == "" && core.Parent(e.Name) != "" {
		return c.sealerAt(ctx, e.Name, nil)
	}
	k, err := c.keyring(ctx)
	if err != nil {
		return sealer{}, err
	}
	return sealer{k: k, name: path.Base(e.Name), parentBorn: e.ParentBorn}, nil
}

// owner is who owns the folders a put makes above a file.
type owner struct{ uid, gid uint32 }

// mkdirAll returns the live folder dir, made first (with any missing
// folders above it, mode 0755) when there is none. A folder made by
// someone else meanwhile is as good.
func (c *Client) mkdirAll(ctx context.Context, dir string, o owner) (Entry, error) {
	e, err := c.names.Folder(ctx, dir)
	if !errors.Is(err, core.ErrNotFound) {
		return e, err
	}
	if up := core.Parent(dir); up != "" {
		if _, err := c.mkdirAll(ctx, up, o); err != nil {
			return Entry{}, err
		}
	}
	e, err = c.names.Mkdir(ctx, dir, 0o755, o.uid, o.gid)
	if errors.Is(err, core.ErrExist) {
		return c.names.Stat(ctx, dir)
	}
	return e, err
}
