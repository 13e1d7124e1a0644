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
// down gets the key at the next login. It is also how many nodes must show
// a freshly made key before its client uses it (loadKey).
const firstLoginNodes = 3

// loadKey reads the wrapped master key from every node that answers and
// opens it with the password's root key:
//   - the key is the one that opens on the most answering nodes (of two
//     left by first logins that raced, held by as many, the one with the
//     smallest id: every client picks the same; settleKey); nodes without
//     it get it (KEY_PUT expecting none, or the raced key it replaces); a
//     node holding a key that does not open (a wrap of the old password,
//     kept while the node was down during dfc passwd, or a forgery) is
//     left alone and logged;
//   - a node that refuses the password (its dfs.conf has another: an
//     operator's reset there, a change it missed) is logged and counts as
//     a node that did not answer: the key the others serve is used, and a
//     first login goes ahead on the three others; core.ErrAuth only when no
//     key opens and fewer than three nodes took the password;
//   - if no node holds a key that opens and at least three answered, all
//     holding none, this is the user's first login: a new master key goes
//     to them (firstLoginNodes), and the client uses it only once three
//     nodes' replies show it, else the key another first login left on
//     more nodes;
//   - else it fails with core.ErrKey (or core.ErrAuth, ErrNoNode,
//     ErrUnavailable when the nodes that answer cannot tell which of two
//     raced keys won).
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
	mk, _, err := c.settleKey(ctx, root, held, errs)
	if err != nil || mk != nil {
		return mk, err
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

	// The first login: a new master key on the nodes that answer. It is
	// used only if three nodes' replies show it: a first login that raced
	// this one and reached fewer nodes then gives way to it, and one that
	// reached more wins (on a second look if the replies leave it open).
	fresh := crypt.NewMasterKey()
	w := root.Wrap(user, fresh)
	c.log.Info("first login: storing a new master key on the nodes", "user", user, "key", fresh.ID())
	held, errs = c.keyRound(ctx, allNodes, func(s *stub, _ int) ([]byte, error) { return s.keyPut(w, nil) })
	for range 2 {
		mk, shown, err := c.settleKey(ctx, root, held, errs)
		if err != nil {
			return nil, err
		}
		if mk != nil && (mk.ID() != fresh.ID() || shown >= firstLoginNodes) {
			return mk, nil
		}
		held, errs = c.getKeys(ctx)
	}
	return nil, fmt.Errorf("%w: %s's first login raced another, and the nodes that answer do not show one key on three of them: "+
		"try again (%v)", core.ErrUnavailable, user, oneLine(errs))
}

// getKeys asks every node for the user's wrapped key (KEY_GET).
func (c *Client) getKeys(ctx context.Context) (held [core.NumNodes][]byte, errs []error) {
	return c.keyRound(ctx, allNodes, func(s *stub, _ int) ([]byte, error) { return s.keyGet() })
}

// keyRound sends one key request to each of nodes and returns the key
// each node's reply carries. A node the fanout leaves behind may still answer
// after it returns: what it says then is dropped, not raced with.
func (c *Client) keyRound(ctx context.Context, nodes []int, req func(s *stub, n int) ([]byte, error)) (held [core.NumNodes][]byte, errs []error) {
	var mu sync.Mutex
	done := false
	errs = c.fanout(ctx, nodes, func(ctx context.Context, n int) error {
		return c.call(ctx, n, func(s *stub) error {
			k, err := req(s, n)
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
// key opens, and with the key how many nodes' replies show it (holding it,
// or taking it now).
//
// The key held by the most answering nodes wins; of two held by as many,
// the smallest id, but only when every node answered: else the ones that
// did not may tip it, and it fails with core.ErrUnavailable rather than
// use a key that may lose. So a key is never replaced on a node while
// three nodes may hold it: the winner is held by more answering nodes than
// it, and four nodes leave no room for both.
func (c *Client) settleKey(ctx context.Context, root *crypt.Root, held [core.NumNodes][]byte, errs []error) (*crypt.MasterKey, int, error) {
	user := c.cfg.User
	keys := map[string]*crypt.MasterKey{}
	wraps := map[string][]byte{}
	count := map[string]int{}
	unknown := 0 // nodes that did not answer: what they hold is not known
	for n, k := range held {
		switch {
		case errors.Is(errs[n], core.ErrAuth):
			c.log.Warn("a node refused the password; the key the others hold is used", "node", c.nodes[n].label, "user", user)
			unknown++
			continue
		case errs[n] != nil:
			unknown++
			continue
		case k == nil:
			continue
		}
		mk, err := root.Unwrap(user, k)
		if err != nil {
			c.log.Warn("a node holds a key of the user's that this password does not open: left as it is",
				"node", c.nodes[n].label, "user", user, "key", crypt.WrappedID(k))
			continue
		}
		id := mk.ID()
		if keys[id] == nil {
			keys[id], wraps[id] = mk, k
		}
		count[id]++
	}
	best := ""
	for id := range keys {
		if best == "" || count[id] > count[best] || count[id] == count[best] && id < best {
			best = id
		}
	}
	if best == "" {
		return nil, 0, nil
	}
	for id := range keys {
		if id != best && count[id] == count[best] && unknown > 0 {
			return nil, 0, fmt.Errorf("%w: two first logins of %s raced and left keys %s and %s on %d answering nodes each; "+
				"the %d that did not answer decide which is kept: try again when they answer", core.ErrUnavailable, user, best, id, count[id], unknown)
		}
	}
	var fix []int
	for n, k := range held {
		switch {
		case errs[n] != nil:
		case k == nil:
			fix = append(fix, n)
		case crypt.WrappedID(k) != best && keys[crypt.WrappedID(k)] != nil:
			if count[crypt.WrappedID(k)]+unknown >= firstLoginNodes {
				// Cannot happen with four nodes (above); were it to, the
				// key is left alone rather than a mount brought down.
				c.log.Error("BUG: a key three nodes may hold was to be replaced; left as it is", "node", c.nodes[n].label, "user", user)
				continue
			}
			fix = append(fix, n)
		}
	}
	shown := count[best]
	if len(fix) == 0 {
		return keys[best], shown, nil
	}
	got, perr := c.keyRound(ctx, fix, func(s *stub, n int) ([]byte, error) { return s.keyPut(wraps[best], held[n]) })
	for _, n := range fix {
		switch {
		case perr[n] != nil:
			c.log.Warn("could not give a node the user's key; the next load tries again", "node", c.nodes[n].label, "user", user, "err", perr[n])
		case crypt.WrappedID(got[n]) != best:
			c.log.Warn("a node's key changed while the user's key was given to it; the next load looks again", "node", c.nodes[n].label, "user", user)
		default:
			shown++
			if held[n] != nil {
				c.log.Info("replaced the key of a first login that raced another", "node", c.nodes[n].label, "user", user, "key", best)
			}
		}
	}
	return keys[best], shown, nil
}

// Unlock loads the user's master key now (the first login makes it), so
// that a mount reports a password that does not open the user's key, or a
// first login without enough nodes, when it starts rather than as EACCES
// at the first file.
func (c *Client) Unlock(ctx context.Context) error {
	_, err := c.keyring(ctx)
	return err
}
