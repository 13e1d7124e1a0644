package client

import (
	"context"
	"errors"
	"slices"

	"dfs/core/wire"
)

// corruptError marks a read that failed because a node's copy was bad, so
// that the copy can be repaired from the good one (read repair).
type corruptError struct {
	node int
	err  error
}

func (e *corruptError) Error() string { return e.err.Error() }
func (e *corruptError) Unwrap() error { return e.err }

// repairAfter starts a read repair of the chunk at loc on every node
// whose copy a read just found bad (errs are the failed attempts before
// the successful one). It runs in the background, bounded by the I/O
// timeout. Only chunks of a committed version (loc.e) are repaired.
func (c *Client) repairAfter(loc *chunkLoc, errs []error) {
	if loc.e == nil {
		return
	}
	for _, err := range errs {
		var ce *corruptError
		if !errors.As(err, &ce) {
			continue
		}
		entry, i, ch, bad := *loc.e, loc.i, loc.ch, ce.node
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*c.cfg.IOTimeout)
			defer cancel()
			if err := c.repairChunk(ctx, &entry, i, ch, bad); err != nil {
				c.log.Warn("read repair failed", "file", entry.Name, "segment", entry.Segments[i].Index, "chunk", ch+1, "node", c.nodes[bad].name, "err", err)
				return
			}
			c.log.Info("read repair", "file", entry.Name, "segment", entry.Segments[i].Index, "chunk", ch+1, "node", c.nodes[bad].name)
		}()
	}
}

// repairChunk copies a good copy of chunk ch of e's segment i to node n
// and commits it there under e's own stamp (the node adds it to the
// version it holds).
func (c *Client) repairChunk(ctx context.Context, e *Entry, i, ch, n int) error {
	good := *e
	good.Copies = slices.Clone(e.Copies)
	good.Copies[i][ch] = slices.DeleteFunc(slices.Clone(e.Copies[i][ch]), func(m int) bool { return m == n })
	upload := newUploadID()
	if _, err := c.copyChunk(ctx, &good, i, ch, n, upload, nil); err != nil {
		return err
	}
	_, err := c.commitOn(ctx, n, wire.CommitReq{Path: e.Name, Upload: upload, Meta: metaOf(e)})
	return err
}
