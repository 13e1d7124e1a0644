package node

import (
	"dfs/core/wire"
)

// update applies a mkdir, setattr, delete or rmdir if its stamp is newer
// than the entry's.
func (c *session) update(body []byte) error {
	var req wire.UpdateReq
	if err := decode(body, &req); err != nil {
		return err
	}
	if err := c.applyUpdate(req); err != nil {
		return err
	}
	if err := c.durable(req.Sync); err != nil {
		return err
	}
	return c.send(wire.TypeUpdate, wire.Empty{})
}

func (c *session) applyUpdate(req wire.UpdateReq) error {
	p, err := cleanPath(req.Path, false)
	if err != nil {
		return err
	}
	m := req.Meta
	if err := checkStamp("stamp", m.Stamp); err != nil {
		return err
	}
	if m.Born != "" {
		if err := checkStamp("born", m.Born); err != nil {
			return err
		}
	}
	if err := checkSeal(m.Seal); err != nil {
		return err
	}
	if err := wire.CheckAttrs(&m); err != nil {
		return badRequest("%v", err)
	}
	return c.us.Update(req.Op, p, m, req.Heal)
}

// rename moves an entry with everything under it and leaves a tombstone at
// its old name.
func (c *session) rename(body []byte) error {
	var req wire.RenameReq
	if err := decode(body, &req); err != nil {
		return err
	}
	if err := c.applyRename(req); err != nil {
		return err
	}
	if err := c.durable(req.Sync); err != nil {
		return err
	}
	return c.send(wire.TypeRename, wire.Empty{})
}

func (c *session) applyRename(req wire.RenameReq) error {
	from, err := cleanPath(req.From, false)
	if err != nil {
		return err
	}
	to, err := cleanPath(req.To, false)
	if err != nil {
		return err
	}
	if err := checkStamp("stamp", req.Stamp); err != nil {
		return err
	}
	if from == to || len(to) > len(from) && to[:len(from)+1] == from+"/" {
		return badRequest("cannot move %s into itself", from)
	}
	if err := checkSeal(req.Seal); err != nil {
		return err
	}
	if err := checkSeal(req.TombSeal); err != nil {
		return err
	}
	return c.us.Rename(from, to, req.Stamp, req.Seal, req.TombSeal)
}

// purge removes a tombstone once every node has it; anything else is left
// alone and still answered OK, so purges can be repeated.
func (c *session) purge(body []byte) error {
	var req wire.PurgeReq
	if err := decode(body, &req); err != nil {
		return err
	}
	p, err := cleanPath(req.Path, false)
	if err != nil {
		return err
	}
	if err := c.us.Purge(p, req.Stamp, req.Forged); err != nil {
		return err
	}
	return c.send(wire.TypePurge, wire.Empty{})
}
