package node

import (
	"dfs/core"
	"dfs/core/wire"
)

// commit makes an uploaded version current for a path. The request is
// binary (wire.DecodeCommitReq): a meta of core.MaxFileSize takes 12.5 MB.
func (c *session) commit(body []byte) error {
	req, err := wire.DecodeCommitReq(body)
	if err != nil {
		return &reqError{status: wire.StatusBadRequest, msg: "malformed request: " + err.Error(), fatal: true}
	}
	held, err := c.applyCommit(req)
	if err != nil {
		return err
	}
	if err := c.durable(req.Sync); err != nil {
		return err
	}
	return c.send(wire.TypeCommit, wire.CommitResp{Held: held})
}

// applyCommit checks a commit and applies it; it returns the chunks of the
// new version's segments this node holds.
func (c *session) applyCommit(req wire.CommitReq) ([]uint8, error) {
	p, err := cleanPath(req.Path, false)
	if err != nil {
		return nil, err
	}
	m := req.Meta
	if err := checkStamp("stamp", m.Stamp); err != nil {
		return nil, err
	}
	if err := checkStamp("version", m.Version); err != nil {
		return nil, err
	}
	if m.Born != "" { // the entry's identity, its inode number on mounts: a version id too
		if err := checkStamp("born", m.Born); err != nil {
			return nil, err
		}
	}
	if m.Dir || m.Deleted || m.Size < 0 {
		return nil, badRequest("a commit must describe a file")
	}
	if err := wire.CheckSegments(&m); err != nil {
		return nil, badRequest("%v", err)
	}
	if err := wire.CheckAttrs(&m); err != nil {
		return nil, badRequest("%v", err)
	}
	for _, n := range req.Need {
		if n < 0 || n >= core.NumChunks*len(m.Segments) {
			return nil, badRequest("need lists chunk %d of a file of %d segments", n, len(m.Segments))
		}
	}
	if req.Upload != "" && !validUpload(req.Upload) {
		return nil, badRequest("invalid upload id")
	}
	return c.us.Commit(p, req.Upload, m, req.New, req.Need)
}

// drop abandons an upload whose commit will not come.
func (c *session) drop(body []byte) error {
	var req wire.DropReq
	if err := decode(body, &req); err != nil {
		return err
	}
	if !validUpload(req.Upload) {
		return badRequest("invalid upload id")
	}
	c.us.DropUpload(req.Upload)
	return c.send(wire.TypeDrop, wire.Empty{})
}

// durable waits, when want is set, until everything this node applied so
// far is on its disk.
func (c *session) durable(want bool) error {
	if !want {
		return nil
	}
	if err := c.s.store.Sync(); err != nil {
		return replyErr(wire.StatusInternal, "node %s could not write to its disk: %v", c.s.cfg.Name, err)
	}
	return nil
}
