package node

import (
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// A LIST reply frame holds at most listBatch entries and, past
// listBatchBytes, no more (records are about 250 bytes, longer with long
// names; frames are capped at wire.MaxControlFrame). One frame holds a
// folder of 10,000 files.
const (
	listBatch      = 12000 // Config.listBatch; tests shorten it
	listBatchBytes = 3 << 20
)

// lookup answers the metas of a path's ancestors and the path itself.
func (c *session) lookup(body []byte) error {
	var req wire.LookupReq
	if err := decode(body, &req); err != nil {
		return err
	}
	p, err := cleanPath(req.Path, true)
	if err != nil {
		return err
	}
	steps, err := c.us.walk(p)
	if err != nil {
		return err
	}
	return c.sendBody(wire.TypeLookup, wire.AppendLookupResp(nil, chain(steps)))
}

// list streams the entries under a folder in batches.
func (c *session) list(body []byte) error {
	var req wire.ListReq
	if err := decode(body, &req); err != nil {
		return err
	}
	p, err := cleanPath(req.Dir, true)
	if err != nil {
		return err
	}
	steps, err := c.us.walk(p)
	if err != nil {
		return err
	}
	rel := filesDir
	if len(steps) > 0 {
		last := steps[len(steps)-1]
		if !last.exists {
			return replyErr(wire.StatusNotFound, "%s: no such folder on this node", p)
		}
		if last.meta != nil && !last.meta.Dir {
			return replyErr(wire.StatusNotDir, "%s is a file", p)
		}
		rel = last.rel
	}
	// The walk runs under the user's lock, so that no rename or delete
	// moves entries under it (a listing that silently missed entries would
	// mislead heal); the batches go out after, without the lock, so a slow
	// client does not hold up the user's writes. A long walk (a folder of
	// many thousand entries) sends an empty batch every second meanwhile,
	// so the client knows the node is working, not hanging.
	l := &lister{c: c}
	done := make(chan error, 1)
	go func() {
		c.us.mu.Lock()
		defer c.us.mu.Unlock()
		done <- l.walk(rel, p, req.Recursive)
	}()
	tick := time.NewTicker(listKeepalive)
	defer tick.Stop()
	first := true
	for walking := true; walking; {
		select {
		case err = <-done:
			walking = false
		case <-tick.C:
			var ch []wire.Meta
			if first {
				ch, first = chain(steps), false
			}
			if err := c.sendBody(wire.TypeList, wire.AppendListHead(nil, false, ch)); err != nil {
				<-done
				return err
			}
		}
	}
	if err != nil {
		return err
	}
	all := l.entries
	var out []byte
	for {
		var ch []wire.Meta
		if first {
			ch, first = chain(steps), false
		}
		// The head is written last, when it is known whether this batch
		// is the last one: encode the entries after room for it.
		head := wire.AppendListHead(nil, false, ch)
		out = append(out[:0], head...)
		n := 0
		for n < len(all) && n < c.s.cfg.listBatch && len(out) < listBatchBytes {
			out = wire.AppendMeta(out, &all[n])
			n++
		}
		if n == len(all) {
			copy(out, wire.AppendListHead(nil, true, ch)) // same length: only the flags differ
		}
		if err := c.sendBody(wire.TypeList, out); err != nil {
			return err
		}
		if n == len(all) {
			return nil
		}
		all = all[n:]
	}
}

// listKeepalive is how often a long LIST walk sends an empty batch.
const listKeepalive = time.Second

// lister collects the entries of a walk.
type lister struct {
	c       *session
	entries []wire.Meta
}

func (l *lister) add(m wire.Meta) error {
	l.entries = append(l.entries, m)
	return nil
}

// walk adds the children of the folder rel (user path p), and their
// descendants when recursive. Symlinks and stray files are skipped, never
// followed. The metas come from the user's cache; only those it lacks are
// read from disk.
func (l *lister) walk(rel, p string, recursive bool) error {
	u := l.c.us
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
			l.c.s.log.Warn("skipping a non-directory in the data folder", "user", u.user, "path", cp)
			continue
		}
		m, _, err := u.readMeta(cr)
		if err != nil {
			l.c.s.log.Warn("skipping an unreadable entry", "user", u.user, "path", cp, "err", err)
			continue
		}
		if m != nil {
			m.Path = cp
			if err := l.add(*m); err != nil {
				return err
			}
		}
		if recursive {
			if err := l.walk(cr, cp, true); err != nil {
				return err
			}
		}
	}
	return nil
}
