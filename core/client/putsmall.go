package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"dfs/core"
	"dfs/core/wire"
)

// putSmall stores a file whose chunks all travel inline (at most 32 KiB) in
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
func (c *Client) putSmall(ctx context.Context, name string, r io.ReaderAt, size int64, sum []byte, x int, upload string, opt PutOptions, progress func(int64)) (PutResult, error) {
	data := make([]byte, size)
	if _, err := r.ReadAt(data, 0); err != nil && !(errors.Is(err, io.EOF) && size == 0) {
		return PutResult{}, fmt.Errorf("read: %w", err)
	}
	var chunks [core.NumChunks]wire.ChunkInfo
	for ch := range chunks {
		s, e := core.ChunkBounds(size, ch)
		h := sha256.Sum256(data[s:e])
		chunks[ch] = wire.ChunkInfo{Size: e - s, SHA256: hex.EncodeToString(h[:])}
	}
	meta := newMeta(size, sum, chunks, opt)
	sendErrs := make([]error, core.NumNodes)
	commitErrs := make([]error, core.NumNodes)
	held := make([][]int, core.NumNodes)
	g := c.startGroup(ctx, allNodes, func(ctx context.Context, n int) error {
		chs := core.NodeChunks(x, n)
		reqs := make([]wire.PutChunkReq, len(chs))
		out := make([]chunkData, len(chs))
		for i, ch := range chs {
			s, e := core.ChunkBounds(size, ch)
			reqs[i] = wire.PutChunkReq{Upload: upload, Chunk: ch, Size: e - s, SHA256: chunks[ch].SHA256, Path: name}
			out[i] = bytesData(data[s:e], chunks[ch].SHA256)
		}
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
		return othersHold(x, n, func(m int) bool {
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
	progress(2 * size)
	switch {
	case stale:
		return c.afterStale(ctx, name, meta)
	case exists:
		chunkErrs := make([]error, core.NumNodes)
		for n := range chunkErrs {
			chunkErrs[n] = firstErr(connErrs[n], sendErrs[n])
		}
		if err := firstErr(overQuota(c, chunkErrs, "the file was not stored; the previous version is unchanged"),
			coverage(c, x, chunkErrs, "stored")); err != nil {
			c.dropUpload(ctx, upload, answered(chunkErrs))
			return PutResult{}, err
		}
		return c.commit(ctx, name, upload, meta, x, chunkErrs, opt.Sync, commitWaves)
	}
	res, err := c.committed(name, meta, x, errs, held)
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
