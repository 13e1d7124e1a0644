package client

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"dfs/core"
	"dfs/core/wire"
)

// HealOptions tune Heal.
type HealOptions struct {
	// Rate caps the bytes per second heal copies between nodes, so that
	// foreground reads and writes keep most of the bandwidth; 0 = no cap.
	Rate int64
	// Names, when set, limits heal to these entries, each by itself (not
	// what is under a folder among them): a report's Left, so that a retry
	// costs what the last heal left rather than another walk over everything.
	Names []string
}

// errInProgress marks an entry heal left alone because a writer may still
// be committing it.
var errInProgress = errors.New("commit in progress")

// HealReport says what Heal did.
type HealReport struct {
	Files        int           // live files looked at
	ChunksCopied int           // chunk copies restored
	BytesCopied  int64         // bytes of those copies
	Updated      int           // entries brought up to date on a node (metadata only or with chunks)
	Tombstones   int           // deletes replayed on nodes that missed them
	Purged       int           // tombstones removed once every node had them
	Forged       int           // entries failing authentication removed from a node, the true ones given instead
	Lost         []string      // files with a chunk that no node holds: heal cannot restore them
	Failed       map[int]error // nodes that did not answer (at the start or on the way): not healed
	Errors       []error       // per-entry failures, each an *EntryError
	InProgress   []string      // files being written while heal ran: left for the next heal
}

// EntryError is heal's failure on one entry.
type EntryError struct {
	Name string
	Err  error
}

func (e *EntryError) Error() string { return e.Name + ": " + e.Err.Error() }
func (e *EntryError) Unwrap() error { return e.Err }

// Left returns the entries heal did not finish, failed or in progress: what
// a retry passes as HealOptions.Names. Nodes that did not answer are not in
// it; they need a whole heal once they answer again.
func (r *HealReport) Left() []string {
	out := slices.Clone(r.InProgress)
	for _, err := range r.Errors {
		if ee, ok := errors.AsType[*EntryError](err); ok {
			out = append(out, ee.Name)
		}
	}
	return out
}

// Heal restores two good copies of every chunk of the user's newest
// versions on the nodes the placement table names, brings folders, attributes
// and deletes up to date on every node, and removes tombstones once every
// node holds them. It walks the tree one folder at a time, so its memory
// follows the largest folder, not the tree; with opt.Names it heals those
// entries alone. Nodes that do not answer are reported and skipped.
func (c *Client) Heal(ctx context.Context, opt HealOptions) (HealReport, error) {
	h := &healRun{c: c, lim: newLimiter(opt.Rate), up: slices.Clone(allNodes)}
	h.rep.Failed = map[int]error{}
	if opt.Names != nil {
		h.names(ctx, opt.Names)
	} else {
		h.folder(ctx, rootEntry, false)
	}
	rep := h.rep
	if len(h.up) == 0 {
		errs := make([]error, core.NumNodes)
		for n, err := range rep.Failed {
			errs[n] = err
		}
		return rep, c.quorum(errs)
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if len(rep.Errors) > 0 {
		return rep, fmt.Errorf("heal: %d entries failed: %w", len(rep.Errors), errors.Join(rep.Errors...))
	}
	return rep, nil
}

// healRun is one Heal's state.
type healRun struct {
	c   *Client
	lim *limiter
	rep HealReport
	up  []int // nodes that answered every request of this heal's walk so far
}

// entry heals one entry by the rules of its place: under a removed folder
// (removed) only deletes are replayed, since the folder's own removal needs
// every node's copy of it empty; live entries there are left for that
// removal to take.
func (h *healRun) entry(ctx context.Context, e *Entry, removed bool) {
	var err error
	for _, n := range h.up {
		if h.c.dropForged(ctx, n, e.Name) {
			h.rep.Forged++
		}
	}
	switch {
	case e.Seal == "" && !e.Deleted:
		return // a folder a node made itself (stub_names.go, implicit): never spread
	case e.Deleted:
		err = h.c.healTombstone(ctx, e, h.up, &h.rep)
	case removed:
		return
	case e.Dir:
		err = h.c.healDir(ctx, e, h.up, &h.rep)
	default:
		h.rep.Files++
		err = h.c.healFile(ctx, e, h.up, h.lim, &h.rep)
	}
	switch {
	case errors.Is(err, errInProgress):
		h.rep.InProgress = append(h.rep.InProgress, e.Name)
	case err != nil:
		h.rep.Errors = append(h.rep.Errors, &EntryError{Name: e.Name, Err: err})
	}
}

// answers sorts the errors of a request of the walk about name. A node
// that failed to answer is taken out of the rest of this heal: one that went
// away must not cost a timeout per folder, and gets a whole heal when it
// answers again (RunHealer). A node that answered with an error it has no
// word for (it could not read its disk, say) fails name alone, and answers
// reports false: name is left for a retry. A file where others have a
// folder (ErrNotDir) is healed like any other difference.
func (h *healRun) answers(name string, errs []error) bool {
	for _, err := range errs {
		if _, ok := errors.AsType[*wire.RemoteError](err); ok {
			h.rep.Errors = append(h.rep.Errors, &EntryError{Name: name, Err: err})
			return false
		}
	}
	for n, err := range errs {
		if err != nil && !errors.Is(err, core.ErrNotDir) {
			h.rep.Failed[n] = err
			h.up = slices.DeleteFunc(h.up, func(m int) bool { return m == n })
		}
	}
	return len(h.up) > 0
}

func metaOf(e *Entry) wire.Meta {
	return wire.Meta{Dir: e.Dir, Deleted: e.Deleted, Stamp: e.Stamp, Born: e.Born, Version: e.Version,
		Size: e.Size, Mode: e.Mode, MTime: e.MTime.UnixNano(), UID: e.UID, GID: e.GID, ATime: e.ATime.UnixNano(),
		CTime: e.CTime.UnixNano(), Target: e.Target, SealedTarget: e.sealedTarget, Segments: e.Segments, Seal: e.Seal}
}

// healDir gives every node the folder's meta. A node whose folder at the
// name has another Born holds an earlier folder (one it kept while it missed
// the removal and the mkdir, or made itself for a change below it): a mkdir
// makes it this folder and removes what it held from before (node
// mkdirEntry); a setattr would keep its Born, and the earlier folder's
// entries would come back.
func (c *Client) healDir(ctx context.Context, e *Entry, up []int, rep *HealReport) error {
	m := metaOf(e)
	for _, n := range up {
		raw := e.Raw[n]
		op := ""
		switch {
		case raw == nil || raw.Deleted || !raw.Dir || raw.Born != e.Born:
			op = wire.UpdateMkdir
		case raw.Stamp < e.Stamp:
			op = wire.UpdateSetattr
		default:
			continue
		}
		err := c.updateOn(ctx, n, wire.UpdateReq{Op: op, Path: e.Name, Meta: m, Heal: true})
		if errors.Is(err, core.ErrStale) {
			continue // changed meanwhile: the newer change is someone else's to spread
		}
		if err != nil {
			return err
		}
		rep.Updated++
	}
	return nil
}

// healTombstone replays a delete on nodes that still hold the entry, and
// purges the tombstone once every node has it. A folder's removal is
// replayed as heal's (UpdateReq.Heal): what the node still holds under it
// and is older was removed on the others while it was away (its deletes,
// replayed first, may be gone already).
func (c *Client) healTombstone(ctx context.Context, e *Entry, up []int, rep *HealReport) error {
	m := metaOf(e)
	op := wire.UpdateDelete
	if e.Dir {
		op = wire.UpdateRmdir
	}
	for _, n := range up {
		raw := e.Raw[n]
		if raw == nil || raw.Deleted {
			continue
		}
		err := c.updateOn(ctx, n, wire.UpdateReq{Op: op, Path: e.Name, Meta: m, Heal: true})
		if errors.Is(err, core.ErrStale) {
			continue
		}
		if err != nil {
			return err
		}
		rep.Tombstones++
	}
	if len(up) < core.NumNodes {
		return nil // a node that is down may still hold the entry: keep the tombstone
	}
	for _, n := range up {
		if e.Raw[n] == nil {
			continue
		}
		if err := c.call(ctx, n, func(s *stub) error { return s.purge(e.Name, e.Stamp, false) }); err != nil {
			return err
		}
	}
	rep.Purged++
	return nil
}
