package node

import (
	"bytes"

	"dfs/core/crypt"
	"dfs/core/wire"
)

// The user's wrapped master key (docs/security.md, End-to-end keys) is
// kept here for the user's clients, which alone can open it. The node
// changes it only as a compare-and-swap (KEY_PUT, PASSWD), so that no
// client overwrites a key it did not see.

// keyGet returns the user's wrapped master key.
func (c *session) keyGet(body []byte) error {
	var req wire.KeyGetReq
	if err := decode(body, &req); err != nil {
		return err
	}
	key, err := c.us.Key()
	if err != nil {
		return err
	}
	return c.send(wire.TypeKeyGet, wire.KeyResp{Key: key})
}

// keyPut stores the user's wrapped master key if the node's is the one the
// client expects, and returns the node's key after the request either way:
// the client compares.
func (c *session) keyPut(body []byte) error {
	var req wire.KeyPutReq
	if err := decode(body, &req); err != nil {
		return err
	}
	if crypt.WrappedID(req.Key) == "" {
		return badRequest("not a wrapped key (%d bytes, want %d)", len(req.Key), crypt.WrappedSize)
	}
	cur, swapped, err := c.us.SwapKey(req.Key, req.Expect)
	if err != nil {
		return err
	}
	if swapped {
		c.s.log.Info("user key stored", "user", c.user, "remote", c.remote, "key", crypt.WrappedID(req.Key))
	}
	return c.send(wire.TypeKeyPut, wire.KeyResp{Key: cur})
}

// passwd changes the user's password: the key wrapped by the new password
// replaces the one the client expects (StatusStale and nothing changed if
// the node's is another), then the new verifier replaces the old in
// dfs.conf. The connection logged in with the old password.
func (c *session) passwd(body []byte) error {
	var req wire.PasswdReq
	if err := decode(body, &req); err != nil {
		return err
	}
	if _, err := crypt.ParseLogin(req.Login); err != nil {
		return badRequest("new login: %v", err)
	}
	if crypt.WrappedID(req.Key) == "" {
		return badRequest("not a wrapped key (%d bytes, want %d)", len(req.Key), crypt.WrappedSize)
	}
	cur, swapped, err := c.us.SwapKey(req.Key, req.Expect)
	if err != nil {
		return err
	}
	if !swapped && !bytes.Equal(cur, req.Key) {
		c.s.log.Warn("password change refused: the user's key changed", "user", c.user, "remote", c.remote)
		return replyErr(wire.StatusStale, "the user's key on this node is not the one the client read: password not changed")
	}
	if err := c.s.cfg.Users.SetLogin(c.user, req.Login); err != nil {
		if swapped && req.Expect != nil {
			if _, _, rerr := c.us.SwapKey(req.Expect, req.Key); rerr != nil {
				c.s.log.Error("password change failed after the new key was stored, and putting the old key back failed too", "user", c.user, "err", rerr)
			}
		}
		return err
	}
	c.s.log.Info("password changed", "user", c.user, "remote", c.remote)
	return c.send(wire.TypePasswd, wire.Empty{})
}
