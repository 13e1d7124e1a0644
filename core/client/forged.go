package client

import (
	"fmt"
	"strings"
	"sync"
)

// forged counts what one node served that failed authentication with the
// user's key (core/crypt): entries whose seal, name or target did not
// check, chunks that did not open. Such a copy is treated as bad (the
// other copies are used), and dfc status and the mount's .dfs-status
// report the node: its data folder was changed outside dfs.
type forged struct {
	mu      sync.Mutex
	entries int64
	chunks  int64
	last    string            // the path of the last one
	logged  map[string]bool   // paths already logged, so a node is not logged once per read
	stamps  map[string]string // path -> the stamp of the entry there that failed, for heal (forgedStamp)
}

// Forged is what a node served in this run that failed authentication.
type Forged struct {
	Entries int64  `json:"entries"`
	Chunks  int64  `json:"chunks"`
	Last    string `json:"last,omitempty"` // the path of the last one
}

// Report is the sentence dfc status and the mount's status file say of
// node: what it served that failed authentication, and what that means.
func (f Forged) Report(node string) string {
	var what []string
	for _, c := range []struct {
		n         int64
		one, more string
	}{{f.Entries, "entry", "entries"}, {f.Chunks, "chunk", "chunks"}} {
		switch {
		case c.n == 1:
			what = append(what, "1 "+c.one)
		case c.n > 1:
			what = append(what, fmt.Sprintf("%d %s", c.n, c.more))
		}
	}
	return fmt.Sprintf("%s served %s that failed authentication (last: %s): its data folder was changed outside dfs; the other copies were used",
		node, strings.Join(what, " and "), f.Last)
}

// maxForgedLogged bounds the paths remembered for logging once.
const maxForgedLogged = 1024

// noteForged counts n entries or chunks (what: "entry" or "chunk") that
// node n served for path and that failed authentication, logging each
// path once at warn.
func (c *Client) noteForged(n int, what, path string) {
	f := &c.nodes[n].forged
	f.mu.Lock()
	if what == "chunk" {
		f.chunks++
	} else {
		f.entries++
	}
	f.last = path
	first := !f.logged[what+" "+path]
	if first {
		if f.logged == nil || len(f.logged) >= maxForgedLogged {
			f.logged = map[string]bool{}
		}
		f.logged[what+" "+path] = true
	}
	f.mu.Unlock()
	if first {
		c.log.Warn("a node served data that failed authentication: its data folder was changed outside dfs; the other copies are used",
			"node", c.nodes[n].label, "what", what, "path", path)
	}
}

// noteForgedEntry counts an entry at path that node n served and that
// failed authentication, keeping its stamp: heal removes it from the node
// (PURGE with Forged) when it bars the true version.
func (c *Client) noteForgedEntry(n int, path, stamp string) {
	f := &c.nodes[n].forged
	f.mu.Lock()
	if f.stamps == nil || len(f.stamps) >= maxForgedLogged {
		f.stamps = map[string]string{}
	}
	f.stamps[path] = stamp
	f.mu.Unlock()
	c.noteForged(n, "entry", path)
}

// forgedStamp returns the stamp of the entry at path that node n served
// and that failed authentication, "" if none did.
func (c *Client) forgedStamp(n int, path string) string {
	f := &c.nodes[n].forged
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stamps[path]
}

// Forged returns, per node, what it served in this run that failed
// authentication (nodes with nothing are left out).
func (c *Client) Forged() map[int]Forged {
	out := map[int]Forged{}
	for n, p := range c.nodes {
		p.forged.mu.Lock()
		if p.forged.entries > 0 || p.forged.chunks > 0 {
			out[n] = Forged{Entries: p.forged.entries, Chunks: p.forged.chunks, Last: p.forged.last}
		}
		p.forged.mu.Unlock()
	}
	return out
}
