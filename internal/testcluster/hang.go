package testcluster

import (
	"net"
	"sync"

	"dfs/core"
)

// hang stands in for a stuck node: it accepts connections and never
// answers them.
type hang struct {
	ln     net.Listener
	mu     sync.Mutex // guards the fields below
	held   []net.Conn
	closed bool
}

// Hang replaces node n with a listener that accepts connections and never
// answers, as a node that is stuck would. The listener is the test
// process's, so Hang is not for Namespaces (Freeze or Cut are).
func (c *Cluster) Hang(n int) {
	c.t.Helper()
	c.Stop(n)
	ln, err := listen(c.Addr(n))
	if err != nil {
		c.t.Fatalf("%s: hang: %v", core.NodeName(n), err)
	}
	h := &hang{ln: ln}
	c.mu.Lock()
	c.hangs[n] = h
	c.mu.Unlock()
	go h.accept()
}

func (h *hang) accept() {
	for {
		conn, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		if h.closed {
			conn.Close()
		} else {
			h.held = append(h.held, conn)
		}
		h.mu.Unlock()
	}
}

// unhang closes node n's stand-in, if it has one, and every connection it
// holds.
func (c *Cluster) unhang(n int) {
	c.mu.Lock()
	h := c.hangs[n]
	c.hangs[n] = nil
	c.mu.Unlock()
	if h == nil {
		return
	}
	h.ln.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, conn := range h.held {
		conn.Close()
	}
}
