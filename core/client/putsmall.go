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
// the nodes that took it (there was no version before to keep).
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
	stageErrs := make([]error, core.NumNodes)
	commitErrs := make([]error, core.NumNodes)
	held := make([][]int, core.NumNodes)
	g := c.startGroup(ctx, allNodes, func(ctx context.Context, n int) error {
		chs := core.NodeChunks(x, n)
		return c.call(ctx, n, func(conn *wire.Conn) error {
			conn.SetDeadline(c.ioDeadline())
			for _, ch := range chs {
				s, e := core.ChunkBounds(size, ch)
				req := wire.PutChunkReq{Upload: upload, Chunk: ch, Size: e - s, SHA256: chunks[ch].SHA256, Inline: true, Path: name}
				if err := conn.Write(wire.TypePutChunk, wire.StatusOK, req); err != nil {
					return err
				}
				if err := conn.WriteData(data[s:e]); err != nil {
					return err
				}
				if err := conn.WriteEnd(); err != nil {
					return err
				}
			}
			creq := wire.CommitReq{Path: name, Upload: upload, Meta: meta, Sync: opt.Sync, New: true, Need: chs[:]}
			if err := conn.Write(wire.TypeCommit, wire.StatusOK, creq); err != nil {
				return err
			}
			if err := conn.Flush(); err != nil {
				return err
			}
			stageErrs[n], commitErrs[n] = nil, nil
			for range chs {
				err := conn.Recv(wire.TypePutChunk, nil)
				if err := replied(err); err != nil {
					return err
				}
				stageErrs[n] = firstErr(stageErrs[n], remote(err))
			}
			var resp wire.CommitResp
			err := conn.Recv(wire.TypeCommit, &resp)
			if err := replied(err); err != nil {
				return err
			}
			commitErrs[n], held[n] = remote(err), resp.Held
			return nil
		})
	})
	// A hung node is left behind only while each of its chunks is on its
	// other holder: committed, or staged for the waves (the file existed).
	g.canLeave = func(n int) bool {
		return othersHold(x, n, func(m int) bool {
			return g.succeeded(m) && stageErrs[m] == nil && (commitErrs[m] == nil || errors.Is(commitErrs[m], core.ErrExist))
		})
	}
	connErrs := g.wait()
	errs := make([]error, core.NumNodes)
	exists, stale := false, false
	for n := range errs {
		errs[n] = firstErr(connErrs[n], stageErrs[n], commitErrs[n])
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
		upErrs := make([]error, core.NumNodes)
		for n := range upErrs {
			upErrs[n] = firstErr(connErrs[n], stageErrs[n])
		}
		if err := coverage(c, x, upErrs, "stored"); err != nil {
			return PutResult{}, err
		}
		return c.commit(ctx, name, upload, meta, x, upErrs, opt.Sync, commitWaves)
	}
	return c.committed(name, meta, x, errs, held)
}

// replied returns err when it is not a node's reply (the connection is then
// out of step), else nil.
func replied(err error) error {
	var re *wire.RemoteError
	if err != nil && !errors.As(err, &re) {
		return err
	}
	return nil
}

// remote turns a node's error reply into the error callers test for.
func remote(err error) error {
	var re *wire.RemoteError
	if errors.As(err, &re) {
		return remoteErr(re)
	}
	return err
}
