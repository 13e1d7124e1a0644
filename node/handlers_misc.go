package node

import (
	"context"
	"time"

	"golang.org/x/sys/unix"

	"dfs/core/wire"
)

// info reports the node's free space and quarantine size, and what the
// user holds here against their quota.
func (c *session) info(body []byte) error {
	var req wire.InfoReq
	if err := decode(body, &req); err != nil {
		return err
	}
	resp := wire.InfoResp{Node: c.s.cfg.Name, Version: Version, Quarantine: c.s.store.QuarantineCount(), Started: c.s.started.UnixNano(),
		Used: uint64(c.us.Usage().Bytes), Quota: uint64(c.s.cfg.Users.Quota(c.user))}
	var st unix.Statfs_t
	if err := unix.Statfs(c.s.cfg.Dir, &st); err != nil {
		return err
	}
	resp.TotalBytes = uint64(st.Blocks) * uint64(st.Bsize)
	resp.FreeBytes = uint64(st.Bavail) * uint64(st.Bsize)
	return c.send(wire.TypeInfo, resp)
}

// scan verifies all of the user's chunks now, at full speed.
func (c *session) scan(body []byte) error {
	var req wire.ScanReq
	if err := decode(body, &req); err != nil {
		return err
	}
	ctx, cancel := c.s.withClose(context.Background())
	defer cancel()
	rep, err := c.us.Scrub(ctx, 0)
	if err != nil {
		return err
	}
	// The scan may take longer than the I/O timeout; the reply gets a fresh one.
	_ = c.nc.SetDeadline(time.Now().Add(c.s.cfg.IOTimeout))
	return c.send(wire.TypeScan, wire.ScanResp{Checked: rep.Checked, Bad: append([]string{}, rep.Bad...)})
}

// sync replies once everything this node acknowledged before it is on its
// disk.
func (c *session) sync(body []byte) error {
	var req wire.SyncReq
	if err := decode(body, &req); err != nil {
		return err
	}
	if err := c.durable(true); err != nil {
		return err
	}
	return c.send(wire.TypeSync, wire.Empty{})
}
