package client

import (
	"context"
)

// dropForged removes from node n the entry at name that it served and that
// failed authentication in this run (forgedStamp), if it is still the same
// (PURGE with Forged: the node removes it only while its stamp is the one
// that failed), so that heal can then give the node the true entry: a
// forgery stamped later than the true version would otherwise bar it for
// good, as a node keeps the newest stamp. It reports whether the entry
// went.
func (c *Client) dropForged(ctx context.Context, n int, name string) bool {
	stamp := c.forgedStamp(n, name)
	if stamp == "" {
		return false
	}
	if err := c.call(ctx, n, func(s *stub) error { return s.purge(name, stamp, true) }); err != nil {
		c.log.Warn("heal could not remove an entry that failed authentication", "node", c.nodes[n].label, "path", name, "err", err)
		return false
	}
	f := &c.nodes[n].forged
	f.mu.Lock()
	delete(f.stamps, name)
	f.mu.Unlock()
	c.log.Warn("heal removed an entry that failed authentication from a node; the true one follows",
		"node", c.nodes[n].label, "path", name)
	return true
}
