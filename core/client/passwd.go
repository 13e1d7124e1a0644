package client

import (
	"context"
	"errors"
	"fmt"

	"dfs/core"
	"dfs/core/crypt"
	"dfs/core/wire"
)

// Passwd changes the user's password on all four nodes: each gets the
// new password's verifier and the user's master key wrapped by the new
// password in place of the old wrap (PASSWD). Nothing is re-encrypted.
// It refuses unless every node answers and holds the key the old password
// opens, so the nodes never disagree; if a node fails midway the ones
// already changed are changed back. It speaks to every node on one
// connection logged in before the first change: nodes that share a
// dfs.conf would refuse a new login with the old password after it.
func (c *Client) Passwd(ctx context.Context, oldPw, newPw string) error {
	if newPw == "" {
		return errors.New("the new password is empty")
	}
	user := c.cfg.User
	mk, err := c.masterKey(ctx)
	if err != nil {
		return fmt.Errorf("password not changed: %w", err)
	}
	stubs, err := c.holdAll(ctx)
	if err != nil {
		return fmt.Errorf("password not changed: %w", err)
	}
	defer c.releaseAll(stubs)

	oldRoot := crypt.DeriveRoot(user, oldPw)
	var old [core.NumNodes][]byte
	for n, s := range stubs {
		k, err := s.keyGet()
		if err = asNodeError(err); err != nil {
			return fmt.Errorf("password not changed: %s: %w", c.nodes[n].label, err)
		}
		if got, err := oldRoot.Unwrap(user, k); err != nil || got.ID() != mk.ID() {
			return fmt.Errorf("password not changed: %w: %s holds a key the old password does not open "+
				"(the old password is wrong, or the node kept a key of before a change while it was down)", core.ErrKey, c.nodes[n].label)
		}
		old[n] = k
	}

	newRoot := crypt.DeriveRoot(user, newPw)
	w := newRoot.Wrap(user, mk)
	for n, s := range stubs {
		err := asNodeError(s.passwd(wire.PasswdReq{Login: newRoot.Login(), Key: w, Expect: old[n]}))
		if err == nil {
			continue
		}
		for m := range n {
			back := wire.PasswdReq{Login: oldRoot.Login(), Key: old[m], Expect: w}
			if rerr := asNodeError(stubs[m].passwd(back)); rerr != nil {
				return fmt.Errorf("password changed on some nodes only (%s failed: %v; changing %s back failed: %v): run dfc passwd again",
					c.nodes[n].label, err, c.nodes[m].label, rerr)
			}
		}
		return fmt.Errorf("password not changed: %s: %w", c.nodes[n].label, err)
	}
	c.setPassword(newPw)
	for _, p := range c.nodes {
		p.closeIdle()
	}
	return nil
}

// holdAll takes one logged-in connection to every node, failing unless
// all four answer.
func (c *Client) holdAll(ctx context.Context) ([]*stub, error) {
	stubs := make([]*stub, core.NumNodes)
	errs := parallel(core.NumNodes, func(n int) error {
		s, _, err := c.nodes[n].get(ctx)
		stubs[n] = s
		return err
	})
	for n, err := range errs {
		if err != nil {
			c.releaseAll(stubs)
			if errors.Is(err, core.ErrAuth) {
				return nil, core.ErrAuth
			}
			return nil, fmt.Errorf("%s is not reachable (%v); every node must be up so that they never disagree", c.nodes[n].label, err)
		}
	}
	return stubs, nil
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
