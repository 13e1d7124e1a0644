package client

import (
	"context"
	"sync"

	"dfs/core/crypt"
)

// keyring returns the user's working keys (core/crypt), loading the
// master key from the nodes on first use (docs/security.md, End-to-end
// keys).
//
// TEMPORARY (issue 15 integration): one random master key per user and
// process, until the keys kept on the nodes land. Two processes do not
// share it.
func (c *Client) keyring(ctx context.Context) (*crypt.Keys, error) {
	k, _ := tempKeys.LoadOrStore(c.cfg.User, crypt.NewMasterKey().Keys())
	return k.(*crypt.Keys), nil
}

var tempKeys sync.Map
