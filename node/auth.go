package node

import (
	"encoding/json"
	"net"
	"time"

	"dfs/core/wire"
	"dfs/node/store"
)

// authFailedMsg is the one reply to any wrong user name or password, so the
// reply does not tell which was wrong.
const authFailedMsg = "Invalid Username/Password. Please try again."

// authenticate reads the AUTH frame under the AuthTimeout deadline (which
// also covers the TLS handshake) and opens the user's folder. It returns
// false when the connection must be closed.
func (c *session) authenticate() bool {
	s := c.s
	_ = c.nc.SetDeadline(time.Now().Add(s.cfg.AuthTimeout))
	h, body, err := c.wc.ReadRequest()
	if err != nil {
		c.logReadErr("read AUTH", err)
		if isProtocolErr(err) {
			_ = c.wc.SendError(wire.TypeAuth, wire.StatusAuthFailed, "authenticate first")
		}
		return false
	}
	if h.Type != wire.TypeAuth {
		s.log.Info("request before AUTH", "remote", c.remote, "type", h.Type.String())
		_ = c.wc.SendError(h.Type, wire.StatusAuthFailed, "authenticate first")
		return false
	}
	var req wire.AuthReq
	if err := json.Unmarshal(body, &req); err != nil {
		_ = c.wc.SendError(wire.TypeAuth, wire.StatusBadRequest, "malformed AUTH request")
		return false
	}
	ok := c.checkPassword(req.User, req.Password)
	_ = c.nc.SetDeadline(time.Now().Add(s.cfg.IOTimeout))
	if !ok {
		s.log.Warn("authentication failed", "user", req.User, "remote", c.remote)
		_ = c.wc.SendError(wire.TypeAuth, wire.StatusAuthFailed, authFailedMsg)
		return false
	}
	// Data streams (chunks in and out) fail only when the client leaves
	// them silent for the I/O timeout, never for their length.
	c.wc.SetIdle(s.cfg.IOTimeout)
	us, err := s.userDir(req.User)
	if err != nil {
		s.log.Error("open user folder", "user", req.User, "err", err)
		_ = c.wc.SendError(wire.TypeAuth, wire.StatusInternal, "cannot open the user's folder on this node")
		return false
	}
	c.user, c.us = req.User, us
	c.authed.Store(true)
	c.wc.SetMaxFrame(wire.MaxControlFrame)
	s.log.Info("authenticated", "user", req.User, "remote", c.remote)
	return c.wc.Send(wire.TypeAuth, wire.StatusOK, wire.AuthResp{Node: s.cfg.Name, Version: Version}) == nil
}

// checkPassword checks a password under the failed-login throttle and the
// password check semaphore. It returns false also when the server closes.
func (c *session) checkPassword(user, password string) bool {
	s := c.s
	keys := []string{"u:" + user, "ip:" + c.ip()}
	if d := s.throttle.delay(keys...); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
			return false
		}
	}
	busy := time.NewTimer(s.cfg.AuthTimeout)
	defer busy.Stop()
	select {
	case s.checks <- struct{}{}:
	case <-s.done:
		return false
	case <-busy.C:
		s.log.Warn("password checks busy; refusing a login", "user", user, "remote", c.remote)
		return false
	}
	ok := store.ValidUser(user) && s.cfg.Users.Check(user, password)
	<-s.checks
	if ok {
		s.throttle.succeed(keys...)
	} else {
		s.throttle.fail(keys...)
	}
	return ok
}

// ip is the remote address without the port.
func (c *session) ip() string {
	if h, _, err := net.SplitHostPort(c.remote); err == nil {
		return h
	}
	return c.remote
}
