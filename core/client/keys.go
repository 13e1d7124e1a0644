package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"dfs/core"
	"dfs/core/crypt"
)

// The user's master key is kept on the nodes wrapped by the password's
// root key (docs/security.md, End-to-end keys); a client loads it once and
// keeps it, whatever becomes of the password meanwhile (dfc passwd
// rewraps the same key).

// keyState is the client's master key: loaded once, by one load that
// concurrent callers wait for. A failed load is not kept: the next call
// tries again.
type keyState struct {
	mu   sync.Mutex // guards the fields below
	mk   *crypt.MasterKey
	keys *crypt.Keys
	load *keyLoad // the load in flight, if any
}

// keyLoad is one load of the master key.
type keyLoad struct {
	done chan struct{} // closed when the fields below are set
	mk   *crypt.MasterKey
	err  error
}

// keyring returns the user's working keys (core/crypt), loading the
// master key from the nodes on first use.
func (c *Client) keyring(ctx context.Context) (*crypt.Keys, error) {
	if _, err := c.masterKey(ctx); err != nil {
		return nil, err
	}
	c.keys.mu.Lock()
	defer c.keys.mu.Unlock()
	return c.keys.keys, nil
}

// masterKey returns the user's master key, loading it on first use.
func (c *Client) masterKey(ctx context.Context) (*crypt.MasterKey, error) {
	ks := &c.keys
	ks.mu.Lock()
	if ks.mk != nil {
		defer ks.mu.Unlock()
		return ks.mk, nil
	}
	l := ks.load
	if l == nil {
		l = &keyLoad{done: make(chan struct{})}
		ks.load = l
		// The load is shared: it goes on if the caller that started it
		// gives up (each request it makes has its own timeouts).
		lctx := context.WithoutCancel(ctx)
		go func() {
			l.mk, l.err = c.loadKey(lctx)
			ks.mu.Lock()
			ks.load = nil
			if l.err == nil {
				ks.mk, ks.keys = l.mk, l.mk.Keys()
			}
			ks.mu.Unlock()
			close(l.done)
		}()
	}
	ks.mu.Unlock()
	select {
	case <-l.done:
		return l.mk, l.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// firstLoginNodes is how many nodes must answer, holding no key, for a
// client to make the user's master key: three of four, a majority, so that
// any two such sets share two nodes and a second first login (on other
// nodes, later) finds the key instead of making another. A node that was
// down gets the key at the next login.
const firstLoginNodes = 3

// loadKey reads the wrapped master key from every node that answers and
// opens it with the password's root key:
//   - the key is the one that opens (of several, after two first logins
//     raced, the one with the smallest id: every client picks the same);
//     nodes without it get it (KEY_PUT expecting none, or the raced key
//     it replaces); a node holding a key that does not open (a wrap of
//     the old password, kept while the node was down during dfc passwd,
//     or a forgery) is left alone and logged;
//   - a node that refuses the password (its dfs.conf has another: an
//     operator's reset there, a change it missed) is logged and counts as
//     a node that did not answer: the key the others serve is used, and a
//     first login goes ahead on the three others; core.ErrAuth only when no
//     key opens and fewer than three nodes took the password;
//   - if no node holds a key that opens and at least three answered, all
//     holding none, this is the user's first login: a new master key goes
//     to them (firstLoginNodes);
//   - else it fails with core.ErrKey (or core.ErrAuth, ErrNoNode).
func (c *Client) loadKey(ctx context.Context) (*crypt.MasterKey, error) {
	root, _, err := c.loginRoot()
	if err != nil {
		return nil, err
	}
	user := c.cfg.User
	held, errs := c.getKeys(ctx)
	if err := c.keysAnswered(errs, 1); err != nil {
		return nil, err
	}
	if mk := c.settleKey(ctx, root, held, errs); mk != nil {
		return mk, nil
	}
	if refused(errs) && c.keysAnswered(errs, firstLoginNodes) != nil {
		return nil, core.ErrAuth
	}
	for n, k := range held {
		if k != nil {
			return nil, fmt.Errorf("%w: %s holds a key of %s's that this password does not open: "+
				"the files are locked with another password (an operator reset it?); they need the password they were written with",
				core.ErrKey, c.nodes[n].label, user)
		}
	}
	if err := c.keysAnswered(errs, firstLoginNodes); err != nil {
		return nil, fmt.Errorf("%w: %s has no key yet, and the first login needs three of the four nodes: %w", core.ErrKey, user, err)
	}

	// The first login: a new master key on the nodes that answer, and then
	// whichever key won if another first login raced this one.
	w := root.Wrap(user, crypt.NewMasterKey())
	c.log.Info("first login: storing a new master key on the nodes", "user", user, "key", crypt.WrappedID(w))
	held, errs = c.keyRound(ctx, func(s *stub) ([]byte, error) { return s.keyPut(w, nil) })
	if mk := c.settleKey(ctx, root, held, errs); mk != nil {
		return mk, nil
	}
	return nil, fmt.Errorf("%w: storing %s's first key failed: %w", core.ErrKey, user, oneLine(errs))
}

// getKeys asks every node for the user's wrapped key (KEY_GET).
func (c *Client) getKeys(ctx context.Context) (held [core.NumNodes][]byte, errs []error) {
	return c.keyRound(ctx, (*stub).keyGet)
}

// keyRound sends one key request to every node and returns the key each
// node's reply carries. A node the fanout leaves behind may still answer
// after it returns: what it says then is dropped, not raced with.
func (c *Client) keyRound(ctx context.Context, req func(s *stub) ([]byte, error)) (held [core.NumNodes][]byte, errs []error) {
	var mu sync.Mutex
	done := false
	errs = c.fanout(ctx, allNodes, func(ctx context.Context, n int) error {
		return c.call(ctx, n, func(s *stub) error {
			k, err := req(s)
			mu.Lock()
			if !done {
				held[n] = k
			}
			mu.Unlock()
			return err
		})
	})
	mu.Lock()
	done = true
	mu.Unlock()
	return held, errs
}

// keysAnswered fails unless at least want nodes answered: when none did
// as quorum does (core.ErrAuth when a node refused the password), else
// naming the nodes that did not. A node refusing the password while
// others answer does not fail it: one node's dfs.conf (an operator's
// reset there, a node lying) must not lock the user out of the others.
func (c *Client) keysAnswered(errs []error, want int) error {
	answered := 0
	for _, err := range errs {
		if err == nil {
			answered++
		}
	}
	switch {
	case answered >= want:
		return nil
	case answered == 0:
		return c.quorum(errs)
	}
	return oneLine(errs)
}

// refused reports whether a node refused the password.
func refused(errs []error) bool {
	for _, err := range errs {
		if errors.Is(err, core.ErrAuth) {
			return true
		}
	}
	return false
}

// oneLine joins the errors that are not nil on one line.
func oneLine(errs []error) error {
	var msgs []string
	for _, err := range errs {
		if err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	return errors.New(strings.Join(msgs, "; "))
}

// settleKey picks the key among those the nodes that answered hold (see
// loadKey) and gives it to the nodes that lack it. It returns nil when no
// key opens.
func (c *Client) settleKey(ctx context.Context, root *crypt.Root, held [core.NumNodes][]byte, errs []error) *crypt.MasterKey {
	user := c.cfg.User
	var best *crypt.MasterKey
	var bestWrap []byte
	opens := [core.NumNodes]bool{}
	for n, k := range held {
		if errors.Is(errs[n], core.ErrAuth) {
			c.log.Warn("a node refused the password; the key the others hold is used", "node", c.nodes[n].label, "user", c.cfg.User)
		}
		if errs[n] != nil || k == nil {
			continue
		}
		mk, err := root.Unwrap(user, k)
		if err != nil {
			c.log.Warn("a node holds a key of the user's that this password does not open: left as it is",
				"node", c.nodes[n].label, "user", user, "key", crypt.WrappedID(k))
			continue
		}
		opens[n] = true
		if best == nil || mk.ID() < best.ID() {
			best, bestWrap = mk, k
		}
	}
	if best == nil {
		return nil
	}
	var fix []int
	for n, k := range held {
		switch {
		case errs[n] != nil:
		case k == nil, opens[n] && crypt.WrappedID(k) != best.ID():
			fix = append(fix, n)
		}
	}
	if len(fix) > 0 {
		perr := c.fanout(ctx, fix, func(ctx context.Context, n int) error {
			return c.call(ctx, n, func(s *stub) error {
				_, err := s.keyPut(bestWrap, held[n])
				return err
			})
		})
		for _, n := range fix {
			if perr[n] != nil {
				c.log.Warn("could not give a node the user's key; the next load tries again", "node", c.nodes[n].label, "user", user, "err", perr[n])
			} else if held[n] != nil {
				c.log.Info("replaced the key of a first login that raced another", "node", c.nodes[n].label, "user", user, "key", best.ID())
			}
		}
	}
	return best
}

// Unlock loads the user's master key now (the first login makes it), so
// that a mount reports a password that does not open the user's key, or a
// first login without enough nodes, when it starts rather than as EACCES
// at the first file.
func (c *Client) Unlock(ctx context.Context) error {
	_, err := c.keyring(ctx)
	return err
}
