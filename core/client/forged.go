package client

import "sync/atomic"

// forged counts what one node served that failed authentication with the
// user's key (core/crypt): such a copy is treated as bad and the other
// copy is used. (The entry side and the report in dfc status come with
// the names' half of issue 15, which may replace this file.)
type forged struct {
	chunks atomic.Int64
}

// noteForged counts n chunks (what: "chunk") that node n served for path
// and that failed authentication, and logs it at warn.
func (c *Client) noteForged(n int, what, path string) {
	c.nodes[n].forged.chunks.Add(1)
	c.log.Warn("a node served data that failed authentication: its data folder was changed outside dfs; the other copies are used",
		"node", c.nodes[n].label, "what", what, "path", path)
}
