package client

import (
	"context"

	"dfs/core"
	"dfs/core/wire"
)

// NodeInfo is a node's description of itself.
type NodeInfo = wire.InfoResp

func (c *Client) nodeInfo(ctx context.Context, n int) (NodeInfo, error) {
	var info NodeInfo
	err := c.call(ctx, n, func(s *stub) error {
		var err error
		info, err = s.info()
		return err
	})
	c.cfg.Metrics.nodeInfo(c.nodes[n].name, info, err)
	return info, err
}

// FSStats is the space the user can store, counted once per copy kept: the
// nodes' space divided by the two copies of every chunk.
type FSStats struct {
	Total, Free uint64
}

// StatFS sums the space of the nodes that answer and halves it.
func (c *Client) StatFS(ctx context.Context) (FSStats, error) {
	infos := make([]NodeInfo, core.NumNodes)
	errs := c.fanout(ctx, allNodes, func(ctx context.Context, n int) error {
		var err error
		infos[n], err = c.nodeInfo(ctx, n)
		return err
	})
	if err := c.quorum(errs); err != nil {
		return FSStats{}, err
	}
	var s FSStats
	for n, info := range infos {
		if errs[n] == nil {
			s.Total += info.TotalBytes
			s.Free += info.FreeBytes
		}
	}
	return FSStats{Total: s.Total / 2, Free: s.Free / 2}, nil
}
