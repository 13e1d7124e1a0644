package client

import (
	"context"
	"errors"
	"fmt"

	"dfs/core"
	"dfs/core/wire"
)

// putSmall stores a file of one segment whose chunks all travel inline
// (at most 32 KiB, not all zeros: that is a hole) in
// one exchange per node: the node's two chunks and, right behind them, a
// commit that applies only if the node holds no such file (New) and got
// both chunks (Need). A new file, what tar and cp make, thus costs one
// round trip. Where a node already holds the file, the chunks stay staged
// and are committed in the two waves that keep the previous version whole.
// Where nodes fail, the file is new (no node had it), so the nodes that
// committed hold the version as well as they can: the put succeeds if every
// chunk has a copy, and otherwise fails, leaving the new file incomplete on
// the nodes that took it (there was no version before to keep). A node
// over quota fails the put either way (see overQuota).
func (c *Client) putSmall(ctx context.Context, name string, data []byte, opt PutOptions) (PutResult, error) {
	sl, err := c.sealerAt(ctx, name, &owner{opt.UID, opt.GID})
	if err != nil {
		return PutResult{}, err
	}
	keys := sl.k
	size := int64(len(data))
	seg := wire.Segment{Index: 0, ID: core.NewVersion(), Size: size}
	ss := sealSegment(keys, &seg, data) // small: nothing pooled to release
	ss.sums(&seg)
	x := seg.X()
	upload := newUploadID()
	meta := newMeta(size, []wire.Segment{seg}, opt)
	sl.seal(&meta)
	segs := meta.Segments
	sendErrs := make([]error, core.NumNodes)
	commitErrs := make([]error, core.NumNodes)
	held := make([][]uint8, core.NumNodes)
	g := c.startGroup(ctx, allNodes, func(ctx context.Context, n int) error {
		chs := core.NodeChunks(x, n)
		reqs := make([]wire.PutChunkReq, len(chs))
		out := make([]chunkData, len(chs))
		for i, ch := range chs {
			info := seg.Chunks[ch]
			reqs[i] = wire.PutChunkReq{Upload: upload, Segment: seg.ID, Chunk: ch, Size: info.Size, SHA256: info.SHA256, Path: name}
			out[i] = bytesData(ss.chunk(ch), info.SHA256)
		}
		// Need: 4*i+c for chunk c of segment i, and i is 0.
		commit := wire.CommitReq{Path: name, Upload: upload, Meta: meta, Sync: opt.Sync, New: true, Need: chs[:]}
		return c.call(ctx, n, func(s *stub) error {
			sendErr, commitErr, h, err := s.sendSmall(reqs, out, commit)
			sendErrs[n], commitErrs[n], held[n] = c.remote(n, sendErr), c.remote(n, commitErr), h
			return err
		})
	})
	// A hung node is left behind only while each of its chunks is on its
	// other holder: committed, or staged for the waves (the file existed).
	g.canLeave = func(n int) bool {
		return othersHold(segs, n, func(m int) bool {
			return g.succeeded(m) && sendErrs[m] == nil && (commitErrs[m] == nil || errors.Is(commitErrs[m], core.ErrExist))
		})
	}
	connErrs := g.wait()
	errs := make([]error, core.NumNodes)
	exists, stale := false, false
	for n := range errs {
		errs[n] = firstErr(connErrs[n], sendErrs[n], commitErrs[n])
		exists = exists || errors.Is(commitErrs[n], core.ErrExist)
		stale = stale || errors.Is(commitErrs[n], core.ErrStale)
	}
	if err := ctx.Err(); err != nil {
		return PutResult{}, err
	}
	if opt.Progress != nil {
		opt.Progress(size)
	}
	switch {
	case stale:
		return c.afterStale(ctx, name, meta)
	case exists:
		chunkErrs := make([]error, core.NumNodes)
		for n := range chunkErrs {
			chunkErrs[n] = firstErr(connErrs[n], sendErrs[n])
		}
		if err := firstErr(overQuota(c, chunkErrs, "the file was not stored; the previous version is unchanged"),
			coverage(c, &seg, chunkErrs, "stored")); err != nil {
			c.dropUpload(ctx, upload, answered(chunkErrs))
			return PutResult{}, err
		}
		expect := expected{staged: make([][core.NumChunks][]int, 1)}
		for ch := range expect.staged[0] {
			for _, n := range core.ChunkNodes(x, ch) {
				if chunkErrs[n] == nil {
					expect.staged[0][ch] = append(expect.staged[0][ch], n)
				}
			}
		}
		if born := c.fileBorn(ctx, name); born != "" {
			meta.Born = born // an overwrite keeps the file's Born, its Ino
			sl.seal(&meta)
		}
		return sl.committed(c.commit(ctx, name, upload, meta, expect, chunkErrs, opt.Sync, commitWaves))
	}
	res, err := sl.committed(c.committed(name, meta, errs, held))
	outcome := "the new file was stored with one copy of the chunks refused"
	switch {
	case len(res.Failed) == core.NumNodes:
		outcome = "the file was not stored"
	case res.State == StateIncomplete:
		outcome = "the new file is left incomplete"
	}
	if qerr := overQuota(c, sendErrs, outcome); qerr != nil {
		return res, qerr
	}
	return res, err
}

// remote turns node n's error reply into the error callers test for,
// naming the node as call does.
func (c *Client) remote(n int, err error) error {
	var re *wire.RemoteError
	if errors.As(err, &re) {
		return fmt.Errorf("%s: %w", c.nodes[n].label, remoteErr(re))
	}
	return err
}
