package client

import (
	"context"
	"errors"
	"fmt"

	"dfs/core"
)

// Passwd changes the user's password on all four nodes. It refuses unless
// every node answers first, so the nodes never disagree; if a node fails
// midway the ones already changed are changed back.
func (c *Client) Passwd(ctx context.Context, oldPw, newPw string) error {
	if newPw == "" {
		return errors.New("the new password is empty")
	}
	states, err := c.Ping(ctx)
	if err != nil {
		return err
	}
	for _, s := range states {
		if !s.Up {
			return fmt.Errorf("password not changed: %s (%s) is not reachable (%v); every node must be up so that they never disagree", s.Name, s.Addr, s.Err)
		}
	}
	var changed []int
	for n := 0; n < core.NumNodes; n++ {
		err := c.passwdOn(ctx, n, oldPw, newPw)
		if errors.Is(err, core.ErrAuth) && len(changed) > 0 {
			// Nodes sharing one dfs.conf already have the new password.
			if c.passwdOn(ctx, n, newPw, newPw) == nil {
				continue
			}
		}
		if err != nil {
			for _, m := range changed {
				if rerr := c.passwdOn(ctx, m, newPw, oldPw); rerr != nil {
					return fmt.Errorf("password changed on some nodes only (%s failed: %v; changing %s back failed: %v): run dfc passwd again", c.nodes[n].name, err, c.nodes[m].name, rerr)
				}
			}
			return fmt.Errorf("password not changed: %w", err)
		}
		changed = append(changed, n)
	}
	c.setPassword(newPw)
	for _, p := range c.nodes {
		p.closeIdle()
	}
	return nil
}

// passwdOn changes the password on node n from oldPw to newPw.
func (c *Client) passwdOn(ctx context.Context, n int, oldPw, newPw string) error {
	return c.call(ctx, n, func(s *stub) error { return s.passwd(oldPw, newPw) })
}
