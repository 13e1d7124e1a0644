package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// abandonAfter is how old a newer, incomplete commit must be before heal
// treats its writer as dead: longer than any commit can take (each of its two
// waves is bounded by the I/O timeout).
func (c *Client) abandonAfter() time.Duration { return 4 * (c.cfg.IOTimeout + c.cfg.Reply) }

// healFile gives every node the file's current meta and the chunks the
// placement table assigns it. A newer version left incomplete by a writer
// that died mid-commit is overruled by re-stamping the whole version.
func (c *Client) healFile(ctx context.Context, e *Entry, up []int, lim *limiter, rep *HealReport) error {
	if e.State == StateIncomplete {
		rep.Lost = append(rep.Lost, e.Name)
		return nil
	}
	m := metaOf(e)
	for _, raw := range e.Raw {
		if raw == nil || raw.Stamp <= e.Stamp {
			continue
		}
		// A newer stamp than the version served: a commit that is either
		// still in progress or was abandoned by a writer that died. Only the
		// second may be overruled; overruling the first would replace an
		// acknowledged write with an older version.
		if time.Since(core.VersionTime(raw.Stamp)) < c.abandonAfter() {
			return fmt.Errorf("%w: a newer version is being committed; left for the next heal", errInProgress)
		}
		// With a node down, the newer version may be whole once it
		// answers again: only when all four answer is it abandoned.
		if len(up) < core.NumNodes {
			return fmt.Errorf("%w: a newer version may be whole once every node answers", errInProgress)
		}
		m.Stamp = core.NewVersion()
		break
	}
	x := e.X()
	for _, n := range up {
		raw := e.Raw[n]
		if m.Stamp == e.Stamp && raw != nil && !raw.Deleted && !raw.Dir && raw.Version > e.Version {
			continue // newer content that is not whole now: never overwritten unless abandoned
		}
		var missing []int
		for _, ch := range core.NodeChunks(x, n) {
			if raw == nil || raw.Version != e.Version || !slices.Contains(raw.Held, ch) {
				missing = append(missing, ch)
			}
		}
		if raw != nil && raw.Stamp == m.Stamp && len(missing) == 0 {
			continue
		}
		upload := ""
		if len(missing) > 0 {
			upload = newUploadID()
		}
		for i, ch := range missing {
			k, err := c.copyChunk(ctx, e, ch, n, upload, lim)
			if err != nil {
				if i > 0 { // the chunks copied before would wait for a commit
					c.dropUpload(ctx, upload, []int{n})
				}
				return err
			}
			rep.ChunksCopied++
			rep.BytesCopied += k
		}
		_, err := c.commitOn(ctx, n, wire.CommitReq{Path: e.Name, Upload: upload, Meta: m})
		if errors.Is(err, core.ErrStale) {
			continue // overwritten meanwhile: the newer version is someone else's to place
		}
		if err != nil {
			return err
		}
		rep.Updated++
	}
	return nil
}

// copyChunk copies chunk ch of e from a good holder to node `to`'s staging
// area, through a temporary file so memory stays small, checking the
// SHA-256 before sending it on.
func (c *Client) copyChunk(ctx context.Context, e *Entry, ch, to int, upload string, lim *limiter) (int64, error) {
	tmp, err := os.CreateTemp("", "dfs-heal-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size := e.Chunks[ch].Size
	var errs []error
	for _, from := range c.holders(e, ch) {
		if from == to {
			continue
		}
		if err := tmp.Truncate(0); err != nil {
			return 0, err
		}
		h := sha256.New()
		w := io.MultiWriter(io.NewOffsetWriter(tmp, 0), h)
		err := c.getChunk(ctx, from, e, ch, 0, size, lim.writer(ctx, w), c.cfg.IOTimeout)
		if err == nil && hex.EncodeToString(h.Sum(nil)) != e.Chunks[ch].SHA256 {
			err = fmt.Errorf("%s: %w in chunk %d", c.nodes[from].name, core.ErrCorrupt, ch+1)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		info := e.Chunks[ch]
		if err := c.sendChunkTo(ctx, to, upload, ch, io.NewSectionReader(tmp, 0, size), info, func(int64) {}); err != nil {
			return 0, err
		}
		return size, nil
	}
	if len(errs) == 0 {
		return 0, fmt.Errorf("chunk %d: no other copy to copy from", ch+1)
	}
	return 0, fmt.Errorf("chunk %d: %w", ch+1, errors.Join(errs...))
}
