package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
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
		// The one place heal stamps, and so seals: the entry is the
		// authenticated one the nodes served.
		s, err := c.sealerOf(ctx, e)
		if err != nil {
			return err
		}
		m.Stamp = core.NewVersion()
		s.seal(&m)
		break
	}
	for _, n := range up {
		raw := e.Raw[n]
		if m.Stamp == e.Stamp && raw != nil && !raw.Deleted && !raw.Dir && raw.Version > e.Version {
			continue // newer content that is not whole now: never overwritten unless abandoned
		}
		missing := missingOn(e, raw, n)
		if raw != nil && raw.Stamp == m.Stamp && len(missing) == 0 {
			continue
		}
		upload := ""
		if len(missing) > 0 {
			upload = newUploadID()
		}
		for k, sc := range missing {
			size, err := c.copyChunk(ctx, e, sc.i, sc.ch, n, upload, lim)
			if err != nil {
				if k > 0 { // the chunks copied before would wait for a commit
					c.dropUpload(ctx, upload, []int{n})
				}
				return err
			}
			rep.ChunksCopied++
			rep.BytesCopied += size
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

// segChunk is chunk ch of the segment at position i of an entry.
type segChunk struct{ i, ch int }

// missingOn lists the chunks of e node n is to hold and does not, as far
// as its meta raw says: a segment it lists under the same id with the
// chunk held is there (shared by an older version too); any other is
// missing.
func missingOn(e *Entry, raw *wire.Meta, n int) []segChunk {
	held := map[string]uint8{}
	if raw != nil && !raw.Deleted && !raw.Dir {
		for j := range raw.Segments {
			if j < len(raw.Held) {
				held[raw.Segments[j].ID] |= raw.Held[j]
			}
		}
	}
	var missing []segChunk
	for i := range e.Segments {
		bits := held[e.Segments[i].ID]
		for _, ch := range core.NodeChunks(e.Segments[i].X(), n) {
			if bits&(1<<ch) == 0 {
				missing = append(missing, segChunk{i, ch})
			}
		}
	}
	return missing
}

// copyChunk copies chunk ch of e's segment i from a good holder to node
// `to`'s staging area, through a temporary file so memory stays small,
// checking the SHA-256 before sending it on.
func (c *Client) copyChunk(ctx context.Context, e *Entry, i, ch, to int, upload string, lim *limiter) (int64, error) {
	tmp, err := os.CreateTemp("", "dfs-heal-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	loc := c.loc(e, i, ch)
	info := loc.seg.Chunks[ch]
	var errs []error
	for _, from := range loc.holders {
		if from == to {
			continue
		}
		if err := tmp.Truncate(0); err != nil {
			return 0, err
		}
		h := sha256.New()
		w := io.MultiWriter(io.NewOffsetWriter(tmp, 0), h)
		err := c.getChunk(ctx, from, &loc, 0, info.Size, lim.writer(ctx, w), c.cfg.IOTimeout)
		if err == nil && hex.EncodeToString(h.Sum(nil)) != info.SHA256 {
			err = fmt.Errorf("%s: %w in %s", c.nodes[from].name, core.ErrCorrupt, loc.name())
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := c.sendChunkTo(ctx, to, upload, loc.seg.ID, ch, io.NewSectionReader(tmp, 0, info.Size), info, func(int64) {}); err != nil {
			return 0, err
		}
		return info.Size, nil
	}
	if len(errs) == 0 {
		return 0, fmt.Errorf("%s: no other copy to copy from", loc.name())
	}
	return 0, fmt.Errorf("%s: %w", loc.name(), errors.Join(errs...))
}
