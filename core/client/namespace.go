package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// updateAll sends an UPDATE to every node (applyOn).
func (c *Client) updateAll(ctx context.Context, req wire.UpdateReq) error {
	return c.applyOn(ctx, allNodes, func(s *stub) error { return s.update(req) })
}

// updateOn sends an UPDATE to node n.
func (c *Client) updateOn(ctx context.Context, n int, req wire.UpdateReq) error {
	return c.call(ctx, n, func(s *stub) error { return s.update(req) })
}

// applyOn sends one namespace change (fn) to the nodes and succeeds when
// at least one node applied it. Nodes that hold a newer stamp (ErrStale) or
// already agree count as applied; nodes that are down catch up through heal.
func (c *Client) applyOn(ctx context.Context, nodes []int, fn func(s *stub) error) error {
	return c.outcome(c.applied(ctx, nodes, fn))
}

// applied sends fn to the nodes and returns each one's error, nil where
// it applied (ErrStale is kept: the node holds a newer change).
func (c *Client) applied(ctx context.Context, nodes []int, fn func(s *stub) error) []error {
	return c.fanout(ctx, nodes, func(ctx context.Context, n int) error { return c.call(ctx, n, fn) })
}

// outcome is applyOn's result from the nodes' errors.
func (c *Client) outcome(errs []error) error {
	errs = slices.Clone(errs)
	for n, err := range errs {
		if errors.Is(err, core.ErrStale) {
			errs[n] = nil
		}
	}
	for _, err := range errs {
		if errors.Is(err, core.ErrNotEmpty) {
			return err
		}
	}
	return c.quorum(errs)
}

// Sync asks every node to make everything it acknowledged so far durable
// (on its disk), as fsync(2) of a file or folder on the mount does. It fails
// when a node that answered could not write to its disk, and with ErrNoNode
// when none answered; nodes that are down have nothing of ours to flush.
func (c *Client) Sync(ctx context.Context) error {
	errs := c.fanout(ctx, allNodes, c.syncNode)
	for _, err := range errs {
		var re *wire.RemoteError
		if errors.As(err, &re) || errors.Is(err, core.ErrNoSpace) {
			return err
		}
	}
	return c.quorum(errs)
}

// syncNode asks node n to flush (SYNC).
func (c *Client) syncNode(ctx context.Context, n int) error {
	return c.call(ctx, n, (*stub).sync)
}

// mkdir creates a folder; its parent must exist. It returns the new
// folder's entry.
func (c *Client) mkdir(ctx context.Context, name string, mode, uid, gid uint32) (Entry, error) {
	name, err := cleanName(name)
	if err != nil {
		return Entry{}, err
	}
	if name == "" {
		return Entry{}, fmt.Errorf("top folder: %w", core.ErrExist)
	}
	old, err := c.stat(ctx, name)
	if err == nil {
		return Entry{}, fmt.Errorf("%s: %w", name, core.ErrExist)
	} else if !errors.Is(err, core.ErrNotFound) {
		return Entry{}, err
	}
	s, err := c.sealerAt(ctx, name, nil)
	if err != nil {
		return Entry{}, err
	}
	v := core.NewVersion()
	now := time.Now().UnixNano()
	m := wire.Meta{Dir: true, Stamp: v, Born: v, Mode: mode & wire.ModePerm, MTime: now, ATime: now, CTime: now,
		UID: uid, GID: gid}
	s.seal(&m)
	// A node refuses a mkdir over a live folder (ErrExist), but one it
	// made itself is no folder (mergeAt): sent as heal's, the mkdir
	// replaces it (node mkdirEntry).
	errs := c.applied(ctx, allNodes, func(st *stub) error {
		return st.update(wire.UpdateReq{Op: wire.UpdateMkdir, Path: name, Meta: m, Heal: nodeMade(old.Raw[st.pool.idx])})
	})
	if err := c.outcome(errs); err != nil {
		return Entry{}, err
	}
	e := s.entry(name, &m)
	for n, err := range errs {
		if err == nil {
			e.on |= 1 << n
		}
	}
	return e, nil
}

// known returns known, name's entry from a fresh listing, or else asks the
// nodes for it.
func (c *Client) known(ctx context.Context, name string, known *Entry) (Entry, error) {
	if known != nil {
		return *known, nil
	}
	return c.stat(ctx, name)
}

// remove deletes a file from every node that answers, leaving tombstones so
// that a node that was down does not bring it back. known is its entry when
// the caller has it (nil: the nodes are asked).
func (c *Client) remove(ctx context.Context, name string, known *Entry) error {
	e, err := c.known(ctx, name, known)
	if err != nil {
		return err
	}
	if e.Dir {
		return fmt.Errorf("%s: %w", name, core.ErrIsDir)
	}
	return c.tombstone(ctx, &e, wire.UpdateDelete)
}

// rmdir removes an empty folder; known is its entry when the caller has it
// (nil: the nodes are asked). Its emptiness is always checked across every
// node that answers: a node that missed a child must not remove the folder.
func (c *Client) rmdir(ctx context.Context, name string, known *Entry) error {
	e, err := c.known(ctx, name, known)
	if err != nil {
		return err
	}
	if !e.Dir {
		return fmt.Errorf("%s: %w", name, core.ErrNotDir)
	}
	if e.Name == "" {
		return fmt.Errorf("top folder: %w", core.ErrBadName)
	}
	kids, err := c.readDir(ctx, e.Name)
	if err != nil {
		return err
	}
	if len(kids) > 0 {
		return fmt.Errorf("%s: %w", name, core.ErrNotEmpty)
	}
	return c.tombstone(ctx, &e, wire.UpdateRmdir)
}

// tombstone removes e from every node that answers (op: a delete or an
// rmdir), leaving a sealed tombstone with e's Born.
func (c *Client) tombstone(ctx context.Context, e *Entry, op string) error {
	s, err := c.sealerOf(ctx, e)
	if err != nil {
		return err
	}
	m := wire.Meta{Dir: e.Dir, Deleted: true, Stamp: core.NewVersion(), Born: e.Born}
	s.seal(&m)
	return c.updateAll(ctx, wire.UpdateReq{Op: op, Path: e.Name, Meta: m})
}

// rename moves a file or folder, replacing a file (or an empty folder, for a
// folder) at the destination, as rename(2) does.
func (c *Client) rename(ctx context.Context, from, to string) error {
	from, err := cleanName(from)
	if err != nil {
		return err
	}
	to, err = cleanName(to)
	if err != nil {
		return err
	}
	if from == "" || to == "" {
		return fmt.Errorf("%w: cannot rename the top folder", core.ErrBadName)
	}
	if from == to {
		return nil
	}
	src, err := c.stat(ctx, from)
	if err != nil {
		return err
	}
	if src.Dir && strings.HasPrefix(to, from+"/") {
		return fmt.Errorf("%w: cannot move %s into itself", core.ErrBadName, from)
	}
	at, err := c.sealerAt(ctx, to, nil)
	if err != nil {
		return err
	}
	dst, err := c.stat(ctx, to)
	switch {
	case errors.Is(err, core.ErrNotFound):
	case err != nil:
		return err
	case src.Dir && !dst.Dir:
		return fmt.Errorf("%s: %w", to, core.ErrNotDir)
	case !src.Dir && dst.Dir:
		return fmt.Errorf("%s: %w", to, core.ErrIsDir)
	case dst.Dir:
		kids, err := c.readDir(ctx, to)
		if err != nil {
			return err
		}
		if len(kids) > 0 {
			return fmt.Errorf("%s: %w", to, core.ErrNotEmpty)
		}
	}
	req, err := c.renameReq(ctx, &src, to, at)
	if err != nil {
		return err
	}
	return c.applyOn(ctx, c.holdersOf(&src), func(s *stub) error { return s.rename(req) })
}

// holdersOf returns the nodes holding e as it was merged (its stamp and
// Born): a rename's seal is of e's meta moved, which a node holding
// another (one that missed a change to it) would not match. The others
// are marked for the healer, which replays the rename's tombstone there
// and copies the moved entry.
func (c *Client) holdersOf(e *Entry) []int {
	var nodes []int
	for n, raw := range e.Raw {
		if raw != nil && raw.Stamp == e.Stamp && raw.Born == e.Born {
			nodes = append(nodes, n)
		} else {
			c.nodes[n].missed.Store(true)
		}
	}
	return nodes
}

// renameReq is the RENAME of src to to, sealed as the nodes will store
// it: the moved entry with the new stamp and its change time (at: to's
// sealer), and the tombstone left at src's name, born with the stamp.
func (c *Client) renameReq(ctx context.Context, src *Entry, to string, at sealer) (wire.RenameReq, error) {
	from, err := c.sealerOf(ctx, src)
	if err != nil {
		return wire.RenameReq{}, err
	}
	stamp := core.NewVersion()
	moved := metaOf(src)
	moved.Stamp, moved.CTime = stamp, core.VersionTime(stamp).UnixNano()
	at.seal(&moved)
	tomb := wire.Meta{Dir: src.Dir, Deleted: true, Stamp: stamp, Born: stamp}
	from.seal(&tomb)
	return wire.RenameReq{From: src.Name, To: to, Stamp: stamp, Seal: moved.Seal, TombSeal: tomb.Seal}, nil
}

// setAttrTries bounds how often setAttr starts over from the nodes' entry
// after every node refused it for a version committed meanwhile.
const setAttrTries = 3

// setAttr changes the attributes a sets of an entry and its change time
// (now); known is its entry when the caller has it (nil: the nodes are
// asked). The change is sealed with the entry's content version, and a
// node holding another version refuses it (ErrStale): when none applied
// it, it starts over with the entry the nodes hold now.
func (c *Client) setAttr(ctx context.Context, name string, known *Entry, a Attrs) (Entry, error) {
	for try := 1; ; try++ {
		e, err := c.known(ctx, name, known)
		if err != nil {
			return Entry{}, err
		}
		if e.Name == "" {
			return e, nil // the top folder's attributes are fixed
		}
		e, err = c.setAttrOnce(ctx, e, a)
		if !errors.Is(err, core.ErrStale) || try == setAttrTries {
			return e, err
		}
		known = nil
	}
}

// setAttrOnce is one try of setAttr on e: ErrStale when every node that
// answered refused it as stale.
func (c *Client) setAttrOnce(ctx context.Context, e Entry, a Attrs) (Entry, error) {
	s, err := c.sealerOf(ctx, &e)
	if err != nil {
		return Entry{}, err
	}
	if a.Mode != nil {
		e.Mode = e.Mode&wire.ModeType | *a.Mode&wire.ModePerm
	}
	if a.UID != nil {
		e.UID = *a.UID
	}
	if a.GID != nil {
		e.GID = *a.GID
	}
	if a.ATime != nil {
		e.ATime = time.Unix(0, *a.ATime)
	}
	if a.MTime != nil {
		e.MTime = time.Unix(0, *a.MTime)
	}
	e.CTime = time.Now()
	e.Stamp = core.NewVersion()
	m := metaOf(&e)
	s.seal(&m)
	e.Seal = m.Seal
	req := wire.UpdateReq{Op: wire.UpdateSetattr, Path: e.Name, Meta: m}
	errs := c.fanout(ctx, allNodes, func(ctx context.Context, n int) error { return c.updateOn(ctx, n, req) })
	stale := 0
	for _, err := range errs {
		switch {
		case err == nil:
			return e, nil
		case errors.Is(err, core.ErrStale):
			stale++
		}
	}
	if stale > 0 {
		return e, fmt.Errorf("%s: %w: changed meanwhile on every node that answered", e.Name, core.ErrStale)
	}
	return e, c.quorum(errs)
}
