package client

import (
	"context"
	"errors"
	"sync"
	"time"
)

// A node that lags behind the others is either hung (a stopped process, a
// stuck disk: it answers nothing) or only slower (busy, on a loaded
// machine). Only a hung one is left behind and skipped for a while: leaving
// a slow one costs redundancy for nothing, and when the whole machine is
// slow, skipping nodes one after another would fail every write. What
// tells them apart is always a comparison with another node that answers.

// probe is one liveness check of a node, shared by everyone asking.
type probe struct {
	done  chan struct{}
	alive bool // set before done closes
}

// alive reports whether node n answers. It does if it answered a request
// sent after since (the moment it started lagging). Otherwise it is asked
// for INFO now and so, as a reference, is the other node that answered
// most recently: n is hung only if the reference answers within
// Config.Stall and n does not. Concurrent callers share one check. A hung
// node is skipped for a while (markDown). A node whose key OnNewPin is
// deciding about (first contact) is alive: it waits for a person.
func (c *Client) alive(ctx context.Context, n int, since time.Time) bool {
	p := c.nodes[n]
	if p.lastAnswered().After(since) || p.deciding() {
		return true
	}
	p.mu.Lock()
	pr := p.probe
	if pr == nil {
		pr = &probe{done: make(chan struct{})}
		p.probe = pr
		go func() {
			pr.alive = c.check(context.WithoutCancel(ctx), n)
			if !pr.alive {
				p.markDown()
			}
			p.mu.Lock()
			p.probe = nil
			p.mu.Unlock()
			close(pr.done)
		}()
	}
	p.mu.Unlock()
	select {
	case <-pr.done:
		return pr.alive
	case <-ctx.Done():
		return true // the caller gave up: nothing to decide
	}
}

// check asks node n and a reference node for INFO within Stall and
// reports false only when the reference answered and n did not.
func (c *Client) check(ctx context.Context, n int) bool {
	ref := c.reference(n)
	if ref < 0 {
		return true // nobody to compare with
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Stall)
	defer cancel()
	var refErr error
	var wg sync.WaitGroup
	wg.Go(func() { _, refErr = c.nodeInfo(ctx, ref) })
	_, err := c.nodeInfo(ctx, n)
	wg.Wait()
	// A check that met a node's first contact, waiting for OnNewPin,
	// found it alive.
	return err == nil || refErr != nil || errors.Is(err, errUndecided)
}

// reference returns the node other than n that answered most recently and
// is not being skipped, or -1.
func (c *Client) reference(n int) int {
	best, at := -1, time.Time{}
	for m, p := range c.nodes {
		if m == n || p.isDown() {
			continue
		}
		if t := p.lastAnswered(); best < 0 || t.After(at) {
			best, at = m, t
		}
	}
	return best
}

// othersAnswered reports whether a node other than n answered a request
// sent after since: then a failure of n since is n's own, not the machine
// or the network being slow for everyone.
func (c *Client) othersAnswered(n int, since time.Time) bool {
	for m, p := range c.nodes {
		if m != n && p.lastAnswered().After(since) {
			return true
		}
	}
	return false
}
