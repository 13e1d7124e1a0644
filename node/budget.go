package node

import (
	"dfs/core/wire"
	"dfs/node/store"
)

// Per-user limits of what a user can make a node hold, so that one user at
// a limit affects no one else (docs/security.md, Limits): logged-in
// connections, counted here, and uploads waiting for their commit, counted
// by the store against Config.Budget (node/store/budget.go).

// DefaultMaxUserConns is Config.MaxUserConns' default. A client opens a
// connection per node for each request it has in flight there and keeps
// up to 8 idle: a busy mount (FUSE's 12 background requests, read-ahead's
// up to 32 segments, the processes' own requests) stays under half of it,
// leaving room for dfc, heal and a second mount of the same user.
const DefaultMaxUserConns = 128

// join counts c as one of user's logged-in connections and opens the
// user's folder for it. Over Config.MaxUserConns the login is refused as
// busy.
func (c *session) join(user string) error {
	s := c.s
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	if n := s.userConns[user]; n >= s.cfg.MaxUserConns {
		return replyErr(wire.StatusBusy, "node busy: %s has %d connections open to this node, the most one user may have; close some clients (dfc, mounts) or retry later", user, n)
	}
	us, err := s.userDir(user)
	if err != nil {
		return err
	}
	s.userConns[user]++
	c.user, c.us = user, us
	return nil
}

// leave uncounts c once it closed. The user's last connection takes the
// user's uploads waiting for their commit with it: a client commits an
// upload on any of its connections to the node, so only when none is left
// can no commit come.
func (c *session) leave() {
	if c.us == nil {
		return
	}
	s := c.s
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	s.userConns[c.user]--
	if s.userConns[c.user] > 0 {
		return
	}
	delete(s.userConns, c.user)
	if n := c.us.DropUploads(); n > 0 {
		s.log.Info("dropped uploads never committed: the user's last connection closed", "user", c.user, "uploads", n)
	}
}

// Staged returns what the uploads of every user waiting for their commit
// hold on the node.
func (s *Server) Staged() store.Staged { return s.store.Staged() }
