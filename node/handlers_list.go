package node

import (
	"time"

	"dfs/core/wire"
)

// A LIST reply frame holds at most listBatch entries and, past
// listBatchBytes, no more (records are about 250 bytes, longer with long
// names; a file's meta grows by about 190 bytes per segment, see the
// loop below). One frame holds a folder of 10,000 small files; a client
// reads a batch up to wire.MaxListFrame.
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
	chain, err := c.us.Lookup(p)
	if err != nil {
		return err
	}
	return c.sendBody(wire.TypeLookup, wire.AppendLookupResp(nil, chain))
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
	ls, err := c.us.List(p)
	if err != nil {
		return err
	}
	// The walk runs under the user's lock (see Listing.Entries); the
	// batches go out after, without the lock, so a slow client does not
	// hold up the user's writes. A long walk (a folder of many thousand
	// entries) sends an empty batch every second meanwhile, so the client
	// knows the node is working, not hanging.
	var all []wire.Meta
	done := make(chan error, 1)
	go func() {
		var err error
		all, err = ls.Entries(req.Recursive)
		done <- err
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
				ch, first = ls.Chain, false
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
	var out []byte
	for {
		var ch []wire.Meta
		if first {
			ch, first = ls.Chain, false
		}
		// The head is written last, when it is known whether this batch
		// is the last one: encode the entries after room for it.
		head := wire.AppendListHead(nil, false, ch)
		out = append(out[:0], head...)
		n := 0
		for n < len(all) && n < c.s.cfg.listBatch && len(out) < listBatchBytes {
			end := len(out)
			out = wire.AppendMeta(out, &all[n])
			if n > 0 && len(out) > listBatchBytes {
				// A large entry (a big file's meta: up to 12.5 MB)
				// goes in a batch of its own, so that no batch holds
				// more than listBatchBytes and one entry
				// (wire.MaxListFrame).
				out = out[:end]
				break
			}
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
