package node

import (
	"errors"
	"fmt"

	"dfs/core"
	"dfs/core/wire"
	"dfs/node/store"
)

// reserveQuota makes room under the user's quota for the chunk upload req
// (store.UserDir.Reserve), or refuses it with StatusQuota and a message
// saying how full the user is. Call release when the upload ends.
func (c *session) reserveQuota(req wire.PutChunkReq) (release func(), err error) {
	limit := c.s.cfg.Users.Quota(c.user)
	release, err = c.us.Reserve(req.Size, req.Inline, limit, c.us.ReplacedSize(req.Upload, req.Segment, req.Chunk))
	var qe *store.QuotaError
	if errors.As(err, &qe) {
		c.s.log.Info("upload refused: over quota", "user", c.user, "remote", c.remote,
			"used", qe.Bytes, "quota", qe.Limit, "chunk", qe.Need)
		return nil, replyErr(wire.StatusQuota, "%s", quotaMessage(qe, c.s.cfg.Grace))
	}
	return release, err
}

// quotaMessage tells the user over quota where they stand and what to do.
// The client puts the node's name in front.
func quotaMessage(qe *store.QuotaError, grace fmt.Stringer) string {
	msg := fmt.Sprintf("over quota: using %s of %s, no room for %s more", core.FormatBytes(qe.Bytes),
		core.FormatBytes(qe.Limit), core.FormatBytes(qe.Need))
	if qe.Aside > 0 {
		msg += fmt.Sprintf(" (%s of it is replaced or removed files, freed within %v)", core.FormatBytes(qe.Aside), grace)
	}
	return msg + "; remove files or ask the operator to raise it"
}
