package node

import (
	"encoding/json"
	"errors"
	"time"

	"dfs/core/wire"
	"dfs/node/store"
)

// authFailedMsg is the one reply to any wrong user name or password (its
// proof), so the reply does not tell which was wrong.
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
	err = c.checkLogin(req.User, wire.LoginBinding(c.nc), req.Proof)
	_ = c.nc.SetDeadline(time.Now().Add(s.cfg.IOTimeout))
	var re *reqError
	if errors.As(err, &re) {
		_ = c.wc.SendError(wire.TypeAuth, re.status, re.msg)
		return false
	}
	// Data streams (chunks in and out) fail only when the client leaves
	// them silent for the I/O timeout, never for their length.
	c.wc.SetIdle(s.cfg.IOTimeout)
	if err := c.join(req.User); err != nil {
		switch {
		case errors.Is(err, store.ErrNotRecovered):
			s.log.Error("login refused: the user's folder could not be recovered", "user", req.User, "err", err)
			re = &reqError{status: wire.StatusInternal, msg: "this node could not read the user's folder since it started (see its log): it does not serve the user until it can"}
		case !errors.As(err, &re):
			s.log.Error("open user folder", "user", req.User, "err", err)
			re = &reqError{status: wire.StatusInternal, msg: "cannot open the user's folder on this node"}
		default:
			s.log.Warn("login refused", "user", req.User, "remote", c.remote, "why", re.msg)
		}
		_ = c.wc.SendError(wire.TypeAuth, re.status, re.msg)
		return false
	}
	c.authed.Store(true)
	c.wc.SetCaps(wire.NodeCaps)
	s.log.Info("authenticated", "user", req.User, "remote", c.remote)
	return c.wc.Send(wire.TypeAuth, wire.StatusOK, wire.AuthResp{Node: s.cfg.Name, Version: Version}) == nil
}

// Login refusals: any wrong name or proof of the password, and a login
// that waited too long for its turn.
var (
	errLoginFailed = replyErr(wire.StatusAuthFailed, authFailedMsg)
	errLoginBusy   = replyErr(wire.StatusBusy, "too many logins waiting on this node; try again later")
)

// checkLogin checks a login proof made for the connection's binding
// (wire.LoginBinding) under the login limits (throttle.go): it waits, at
// most the AuthTimeout, for its keys to have no other check outstanding
// and for a turn among the concurrent checks, checks, and holds a failure
// back by its delay before returning errLoginFailed, or the reason the
// user's entry logs nobody in. It returns errLoginBusy when the wait was
// too long or the server closes.
func (c *session) checkLogin(user string, binding []byte, proof string) error {
	s := c.s
	keys := loginKeys(user, c.remote)
	wait := time.NewTimer(s.cfg.AuthTimeout)
	defer wait.Stop()
	release, ok := s.throttle.acquire(keys, s.done, wait.C)
	if !ok {
		if !s.isClosed() {
			s.log.Warn("login waited too long behind others from its address; refusing", "user", user, "remote", c.remote)
		}
		return errLoginBusy
	}
	defer release() // after the delay: the key's next check starts once this one's reply goes
	select {
	case s.checks <- struct{}{}:
	case <-s.done:
		return errLoginBusy
	case <-wait.C:
		s.log.Warn("login checks busy; refusing a login", "user", user, "remote", c.remote)
		return errLoginBusy
	}
	var refused error
	if store.ValidUser(user) && len(binding) > 0 { // no binding (a TLS exporter failing): no proof can be checked
		ok, refused = s.cfg.Users.Check(user, binding, proof)
	} else {
		ok = false
	}
	<-s.checks
	if ok {
		s.throttle.succeed(keys[0])
		return nil
	}
	d := s.throttle.fail(keys...)
	if refused != nil {
		s.log.Warn("authentication refused", "user", user, "remote", c.remote, "why", refused, "delay", d)
	} else {
		s.log.Warn("authentication failed", "user", user, "remote", c.remote, "delay", d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.done:
	}
	if refused != nil {
		return replyErr(wire.StatusAuthFailed, "%s", refused.Error())
	}
	return errLoginFailed
}
