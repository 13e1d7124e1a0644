package client

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"dfs/core"
	"dfs/core/wire"
)

// special creates a symlink, FIFO or socket at name: a COMMIT of a meta
// with the type bits and no segments (nothing to upload), on every node at
// once, applied only where no live entry is (a special entry has no
// content to keep whole, so no waves).
func (c *Client) special(ctx context.Context, name string, mode uint32, target string, uid, gid uint32) (Entry, error) {
	name, err := cleanName(name)
	if err != nil {
		return Entry{}, err
	}
	if name == "" {
		return Entry{}, fmt.Errorf("top folder: %w", core.ErrExist)
	}
	switch t := mode & wire.ModeType; {
	case mode&^(wire.ModeType|wire.ModePerm) != 0:
		return Entry{}, fmt.Errorf("%s: mode %#o: %w", name, mode, errors.ErrUnsupported)
	case t == wire.ModeFIFO || t == wire.ModeSocket:
		if target != "" {
			return Entry{}, fmt.Errorf("BUG: a target for a FIFO or socket")
		}
	case t == wire.ModeSymlink:
		switch {
		case target == "":
			return Entry{}, fmt.Errorf("%w: %s: an empty symlink target", core.ErrBadName, name)
		case len(target) > wire.MaxTarget:
			return Entry{}, fmt.Errorf("%w: %s: a symlink target of %d bytes (at most %d)", core.ErrNameTooLong, name, len(target), wire.MaxTarget)
		case strings.IndexByte(target, 0) >= 0:
			return Entry{}, fmt.Errorf("%w: %s: a NUL byte in a symlink target", core.ErrBadName, name)
		}
	default:
		return Entry{}, fmt.Errorf("%s: entry type %#o: %w", name, t, errors.ErrUnsupported)
	}
	if _, err := c.names.Stat(ctx, name); err == nil {
		return Entry{}, fmt.Errorf("%s: %w", name, core.ErrExist)
	} else if !errors.Is(err, core.ErrNotFound) {
		return Entry{}, err
	}
	s, err := c.sealerAt(ctx, name, nil)
	if err != nil {
		return Entry{}, err
	}
	v := core.NewVersion()
	now := core.VersionTime(v).UnixNano()
	m := wire.Meta{Stamp: v, Born: v, Version: v, Size: int64(len(target)), Mode: mode, MTime: now, ATime: now,
		CTime: now, UID: uid, GID: gid, Target: target}
	s.seal(&m) // the target encrypted
	res, err := change(c.names, []string{core.Parent(name)},
		func() (PutResult, error) { return c.commitSpecial(ctx, name, m, s) },
		func(res PutResult) { c.names.setLocked(res.Entry); c.names.bumpedLocked(name) })
	return res.Entry, err
}

// commitSpecial commits m, a special entry, at name on every node with
// New: it succeeds when a node applied it; ErrExist when a node holds a
// live entry there and none applied it.
func (c *Client) commitSpecial(ctx context.Context, name string, m wire.Meta, s sealer) (PutResult, error) {
	req := wire.CommitReq{Path: name, Meta: m, New: true}
	errs := c.fanout(ctx, allNodes, func(ctx context.Context, n int) error {
		_, err := c.commitOn(ctx, n, req)
		return err
	})
	applied := false
	for _, err := range errs {
		applied = applied || err == nil
	}
	if !applied {
		for _, err := range errs {
			if errors.Is(err, core.ErrExist) || errors.Is(err, core.ErrNotDir) {
				return PutResult{}, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	if err := c.quorum(errs); err != nil {
		return PutResult{}, err
	}
	res := PutResult{Version: m.Version, State: StateOK, Failed: map[int]error{}}
	for n, err := range errs {
		if err != nil {
			res.Failed[n] = err
		}
	}
	res.Entry = s.entry(name, &m)
	return res, nil
}
