package client

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"dfs/core/wire"
)

// Test hooks for the external core_test package.

// WindowSize is the read-ahead request size.
const WindowSize = windowSize

// ReadAheadFree returns how much of the read-ahead budget is unused (0 with
// read-ahead off).
func (c *Client) ReadAheadFree() int64 {
	if c.raBudget == nil {
		return 0
	}
	return c.raBudget.left.Load()
}

// ReadAheadWait waits until the File's read-ahead requests have finished
// and returns how many windows it holds.
func (f *File) ReadAheadWait() int {
	f.ra.mu.Lock()
	segs := append([]*window(nil), f.ra.wins...)
	f.ra.mu.Unlock()
	for _, s := range segs {
		<-s.done
	}
	return len(segs)
}

// SetReadAheadIdle shortens how long the File keeps windows nobody reads.
func (f *File) SetReadAheadIdle(d time.Duration) {
	f.ra.mu.Lock()
	f.ra.idleAfter = d
	f.ra.mu.Unlock()
}

// CountDials counts, from now on, the connections the client opens to its
// nodes (each a TLS handshake and a login on the node).
func (c *Client) CountDials() *atomic.Int64 {
	var n atomic.Int64
	for _, p := range c.nodes {
		connect := p.connect
		p.connect = func(ctx context.Context) (net.Conn, error) {
			n.Add(1)
			return connect(ctx)
		}
	}
	return &n
}

// StoredName returns name as the nodes store it, encrypted with the
// user's keys: the path of its entry under a node's files folder.
func (c *Client) StoredName(ctx context.Context, name string) (string, error) {
	k, err := c.keyring(ctx)
	if err != nil {
		return "", err
	}
	return k.EncryptPath(name)
}

// SealFor seals m as the entry name (whose folder must exist) as a client
// writing it does, and returns name as the nodes store it: for tests that
// put entries on the nodes themselves.
func (c *Client) SealFor(ctx context.Context, name string, m *wire.Meta) (string, error) {
	s, err := c.sealerAt(ctx, name, nil)
	if err != nil {
		return "", err
	}
	s.seal(m)
	*m = onWire(*m)
	return s.k.EncryptPath(name)
}

// SetAttrsOf is SetAttrs from an entry the caller holds, as a mount's
// cached listing gives it (perhaps older than the nodes').
func (c *Client) SetAttrsOf(ctx context.Context, known Entry, a Attrs) (Entry, error) {
	return c.setAttr(ctx, known.Name, &known, a)
}

// MasterKeyID loads the user's master key (keyring) and returns its id.
func (c *Client) MasterKeyID(ctx context.Context) (string, error) {
	mk, err := c.masterKey(ctx)
	if err != nil {
		return "", err
	}
	return mk.ID(), nil
}

// KeyPut sends KEY_PUT to node n (store key if the node's is expect) and
// returns the node's key after it, so a test can leave on chosen nodes
// what racing first logins would.
func (c *Client) KeyPut(ctx context.Context, n int, key, expect []byte) ([]byte, error) {
	var got []byte
	err := c.call(ctx, n, func(s *stub) error {
		var err error
		got, err = s.keyPut(key, expect)
		return err
	})
	return got, err
}

// CloseIdle closes every pooled connection, so the next requests log in
// again.
func (c *Client) CloseIdle() {
	for _, p := range c.nodes {
		p.closeIdle()
	}
}
