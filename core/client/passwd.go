package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"dfs/core"
	"dfs/core/crypt"
	"dfs/core/wire"
)

// Passwd changes the user's password on all four nodes: each gets the
// new password's verifier and the user's master key wrapped by the new
// password in place of the old wrap (PASSWD). Nothing is re-encrypted.
// It refuses unless every node answers and holds the key, wrapped by the
// old password or already by the new one (a run that failed midway: such
// a node counts as done and only gets the new verifier again, so a rerun
// finishes the change). If a node fails midway, every node changed is
// changed back, the failing one too unless it refused (a lost reply may
// hide a change it made); the error names the nodes that may keep the
// new password when that fails. It speaks to every node on one connection
// logged in before the first change: nodes that share a dfs.conf would
// refuse a new login with the old password after it.
func (c *Client) Passwd(ctx context.Context, oldPw, newPw string) error {
	if newPw == "" {
		return errors.New("the new password is empty")
	}
	user := c.cfg.User
	mk, err := c.masterKey(ctx)
	if err != nil {
		return fmt.Errorf("password not changed: %w", err)
	}
	old := &passwdSide{root: crypt.DeriveRoot(user, oldPw)}
	nw := &passwdSide{root: crypt.DeriveRoot(user, newPw)}
	stubs, err := c.holdAll(ctx, nw.root)
	if err != nil {
		return fmt.Errorf("password not changed: %w", err)
	}
	defer c.releaseAll(stubs)

	// What each node holds: the key wrapped by the old password, or by
	// the new one already. The wrap it gets back if the change fails is
	// one of the old password's.
	var held, back [core.NumNodes][]byte
	var done [core.NumNodes]bool
	var bad []int
	for n, s := range stubs {
		k, err := s.keyGet()
		if err = asNodeError(err); err != nil {
			return fmt.Errorf("password not changed: %s: %w", c.nodes[n].label, err)
		}
		held[n] = k
		switch {
		case old.opens(user, k, mk):
			back[n] = k
		case nw.opens(user, k, mk):
			done[n], back[n] = true, old.root.Wrap(user, mk)
		default:
			bad = append(bad, n)
		}
	}
	if err := c.passwdBad(bad, held, old.seen || nw.seen); err != nil {
		return fmt.Errorf("password not changed: %w", err)
	}

	w := nw.root.Wrap(user, mk)
	var sent [core.NumNodes][]byte // the wrap each node was sent
	for n, s := range stubs {
		sent[n] = w
		if done[n] {
			sent[n] = held[n] // the key stays; the verifier is set again
		}
		err := asNodeError(s.passwd(wire.PasswdReq{Login: nw.root.Login(), Key: sent[n], Expect: held[n]}))
		if err == nil {
			continue
		}
		return c.undoPasswd(ctx, stubs, n, err, old.root, nw.root, sent, back)
	}
	c.setPassword(newPw)
	for _, p := range c.nodes {
		p.closeIdle()
	}
	return nil
}

// passwdSide is one of the two passwords of a change.
type passwdSide struct {
	root *crypt.Root
	seen bool // a node's key opened with it
}

// opens reports whether the root key opens k as master key mk.
func (p *passwdSide) opens(user string, k []byte, mk *crypt.MasterKey) bool {
	got, err := p.root.Unwrap(user, k)
	if err != nil {
		return false
	}
	p.seen = true
	return got.ID() == mk.ID()
}

// passwdBad explains why the nodes in bad, whose keys neither password
// opens as the user's key, stop a change, and what to do.
func (c *Client) passwdBad(bad []int, held [core.NumNodes][]byte, opened bool) error {
	if len(bad) == 0 {
		return nil
	}
	if !opened {
		return fmt.Errorf("%w: the old password opens the key on no node: is it the old password?", core.ErrKey)
	}
	var none, stale []string
	for _, n := range bad {
		if held[n] == nil {
			none = append(none, c.nodes[n].label)
		} else {
			stale = append(stale, c.nodes[n].label)
		}
	}
	user := c.cfg.User
	var what []string
	if len(none) > 0 {
		what = append(what, fmt.Sprintf("%s holds no key of %s's: log in once (dfc ls), which gives it the key",
			strings.Join(none, ", "), user))
	}
	if len(stale) > 0 {
		what = append(what, fmt.Sprintf("%s holds a key of %s's that neither password opens (the wrap of an earlier password, "+
			"kept while the node was down during a change, or a forgery): have its operator remove users/%s/key in its data "+
			"folder (the next login gives it the key)", strings.Join(stale, ", "), user, user))
	}
	return fmt.Errorf("%w: %s; then run dfc passwd again", core.ErrKey, strings.Join(what, "; "))
}

// undoPasswd changes back the nodes before n, which took the change, and
// node n unless it refused it: with its reply lost it may have taken it
// (on a new connection: the one it failed on is out of step). Each gets
// the old verifier and its wrap back (back) if it still holds the one it
// was sent, so undoing a change a node did not make changes nothing.
func (c *Client) undoPasswd(ctx context.Context, stubs []*stub, n int, cause error, oldRoot, newRoot *crypt.Root,
	sent, back [core.NumNodes][]byte) error {
	label := c.nodes[n].label
	undo := func(s *stub, m int) error {
		err := asNodeError(s.passwd(wire.PasswdReq{Login: oldRoot.Login(), Key: back[m], Expect: sent[m]}))
		if errors.Is(err, core.ErrStale) && m == n {
			// It holds another key than the one it was sent: it did not
			// take the change, unless it went on to another since.
			k, gerr := s.keyGet()
			if gerr == nil && bytes.Equal(k, back[m]) {
				return nil
			}
		}
		return err
	}
	var left []string // nodes that may hold the new password
	var why []string
	for m := range n {
		if err := undo(stubs[m], m); err != nil {
			left = append(left, c.nodes[m].label)
			why = append(why, fmt.Sprintf("changing %s back: %v", c.nodes[m].label, err))
		}
	}
	if !isAnswer(cause) {
		// Even if the caller gave up: a change left on one node locks it out.
		s, err := c.dialEither(context.WithoutCancel(ctx), n, oldRoot, newRoot)
		if err == nil {
			err = undo(s, n)
			s.conn.Close()
		}
		if err != nil {
			left = append(left, label)
			why = append(why, fmt.Sprintf("%s did not answer the change and may have made it; changing it back: %v", label, err))
		}
	}
	if len(left) == 0 {
		return fmt.Errorf("password not changed (the nodes changed were changed back): %s: %w", label, cause)
	}
	return fmt.Errorf("password changed on some nodes only: %s failed (%w); %s. %s may hold the new password, the other nodes "+
		"hold the old one, which still logs in and opens the key: run dfc passwd again, with the same old and new passwords, "+
		"once %s answers: it finishes the change",
		label, cause, strings.Join(why, "; "), strings.Join(left, ", "), strings.Join(left, ", "))
}

// holdAll takes one connection to every node, logged in with the
// client's password (or the new one, on a node a run that failed midway
// left with it), failing unless all four answer.
func (c *Client) holdAll(ctx context.Context, newRoot *crypt.Root) ([]*stub, error) {
	root, _, err := c.loginRoot()
	if err != nil {
		return nil, err
	}
	stubs := make([]*stub, core.NumNodes)
	errs := parallel(core.NumNodes, func(n int) error {
		s, err := c.dialEither(ctx, n, root, newRoot)
		stubs[n] = s
		return err
	})
	for n, err := range errs {
		if err != nil {
			c.releaseAll(stubs)
			if errors.Is(err, core.ErrAuth) {
				return nil, fmt.Errorf("%s: %w", c.nodes[n].label, core.ErrAuth)
			}
			return nil, fmt.Errorf("%s is not reachable (%v); every node must be up so that they never disagree", c.nodes[n].label, err)
		}
	}
	return stubs, nil
}

// dialEither opens a new connection to node n logged in with root, or
// with newRoot where the node refuses root: a change that node took and
// kept. Neither refusal counts against the client's password (dialAs):
// the others may take it.
func (c *Client) dialEither(ctx context.Context, n int, root, newRoot *crypt.Root) (*stub, error) {
	s, err := c.nodes[n].dialAs(ctx, root, "")
	if errors.Is(err, core.ErrAuth) {
		s, err = c.nodes[n].dialAs(ctx, newRoot, "")
	}
	return s, err
}

// asNodeError gives a node's refusal on a connection held outside call
// the form call gives it (remoteErr), for errors.Is.
func asNodeError(err error) error {
	var re *wire.RemoteError
	if errors.As(err, &re) {
		return remoteErr(re)
	}
	return err
}

// releaseAll closes the connections holdAll took: they logged in with
// the old password.
func (c *Client) releaseAll(stubs []*stub) {
	for _, s := range stubs {
		if s != nil {
			s.conn.Close()
		}
	}
}
