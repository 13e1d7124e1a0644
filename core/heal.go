package core

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

	"dfs/core/wire"
)

// HealOptions tune Heal.
type HealOptions struct {
	// Rate caps the bytes per second heal copies between nodes, so that
	// foreground reads and writes keep most of the bandwidth; 0 = no cap.
	Rate int64
}

// errInProgress marks an entry heal left alone because a writer may still
// be committing it.
var errInProgress = errors.New("commit in progress")

// abandonAfter is how old a newer, incomplete commit must be before heal
// treats its writer as dead: longer than any commit can take (each of its two
// waves is bounded by the I/O timeout).
func (c *Client) abandonAfter() time.Duration { return 4 * (c.cfg.IOTimeout + c.cfg.Reply) }

// HealReport says what Heal did.
type HealReport struct {
	Files        int           // live files looked at
	ChunksCopied int           // chunk copies restored
	BytesCopied  int64         // bytes of those copies
	Updated      int           // entries brought up to date on a node (metadata only or with chunks)
	Tombstones   int           // deletes replayed on nodes that missed them
	Purged       int           // tombstones removed once every node had them
	Lost         []string      // files with a chunk that no node holds: heal cannot restore them
	Failed       map[int]error // nodes that did not answer: not healed
	Errors       []error       // per-entry failures
	InProgress   []string      // files being written while heal ran: left for the next heal
}

// Heal restores two good copies of every chunk of the user's newest
// versions on the nodes the placement table names, brings folders, attributes
// and deletes up to date on every node, and removes tombstones once every
// node holds them. Nodes that do not answer are reported and skipped.
func (c *Client) Heal(ctx context.Context, opt HealOptions) (HealReport, error) {
	_, entries, errs := c.list(ctx, "", true)
	if err := c.quorum(errs); err != nil {
		return HealReport{}, err
	}
	rep := HealReport{Failed: map[int]error{}}
	var up []int
	for n, err := range errs {
		if err != nil {
			rep.Failed[n] = err
		} else {
			up = append(up, n)
		}
	}
	lim := newLimiter(opt.Rate)
	all := mergeEntries(entries, map[string]Entry{"": rootEntry}, true)
	for _, e := range all {
		if e.Deleted || ctx.Err() != nil {
			continue
		}
		var err error
		if e.Dir {
			err = c.healDir(ctx, &e, up, &rep)
		} else {
			rep.Files++
			err = c.healFile(ctx, &e, up, lim, &rep)
		}
		if errors.Is(err, errInProgress) {
			rep.InProgress = append(rep.InProgress, e.Name)
			continue
		}
		if err != nil {
			rep.Errors = append(rep.Errors, fmt.Errorf("%s: %w", e.Name, err))
		}
	}
	// Deletes deepest first, so folders are empty when their turn comes.
	for i := len(all) - 1; i >= 0 && ctx.Err() == nil; i-- {
		if e := all[i]; e.Deleted {
			if err := c.healTombstone(ctx, &e, up, &rep); err != nil {
				rep.Errors = append(rep.Errors, fmt.Errorf("%s: %w", e.Name, err))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if len(rep.Errors) > 0 {
		return rep, fmt.Errorf("heal: %d entries failed: %w", len(rep.Errors), errors.Join(rep.Errors...))
	}
	return rep, nil
}

func metaOf(e *Entry) wire.Meta {
	return wire.Meta{Dir: e.Dir, Deleted: e.Deleted, Stamp: e.Stamp, Born: e.Born, Version: e.Version,
		Size: e.Size, Mode: e.Mode, MTime: e.MTime.UnixNano(), MD5: e.MD5, Chunks: e.Chunks}
}

// healDir gives every node the folder's meta. A node whose folder at the
// name has another Born holds an earlier folder (one it kept while it missed
// the removal and the mkdir, or made itself for a change below it): a mkdir
// makes it this folder and removes what it held from before (node
// mkdirEntry); a setattr would keep its Born, and the earlier folder's
// entries would come back.
func (c *Client) healDir(ctx context.Context, e *Entry, up []int, rep *HealReport) error {
	m := metaOf(e)
	for _, n := range up {
		raw := e.Raw[n]
		op := ""
		switch {
		case raw == nil || raw.Deleted || !raw.Dir || raw.Born != e.Born:
			op = wire.UpdateMkdir
		case raw.Stamp < e.Stamp:
			op = wire.UpdateSetattr
		default:
			continue
		}
		err := c.request(ctx, n, wire.TypeUpdate, wire.UpdateReq{Op: op, Path: e.Name, Meta: m, Heal: true}, nil)
		if errors.Is(err, ErrStale) {
			continue // changed meanwhile: the newer change is someone else's to spread
		}
		if err != nil {
			return err
		}
		rep.Updated++
	}
	return nil
}

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
		if time.Since(VersionTime(raw.Stamp)) < c.abandonAfter() {
			return fmt.Errorf("%w: a newer version is being committed; left for the next heal", errInProgress)
		}
		// With a node down, the newer version may be whole once it
		// answers again: only when all four answer is it abandoned.
		if len(up) < NumNodes {
			return fmt.Errorf("%w: a newer version may be whole once every node answers", errInProgress)
		}
		m.Stamp = NewVersion()
		break
	}
	x := e.X()
	for _, n := range up {
		raw := e.Raw[n]
		if m.Stamp == e.Stamp && raw != nil && !raw.Deleted && !raw.Dir && raw.Version > e.Version {
			continue // newer content that is not whole now: never overwritten unless abandoned
		}
		var missing []int
		for _, ch := range NodeChunks(x, n) {
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
		for _, ch := range missing {
			k, err := c.copyChunk(ctx, e, ch, n, upload, lim)
			if err != nil {
				return err
			}
			rep.ChunksCopied++
			rep.BytesCopied += k
		}
		var resp wire.CommitResp
		err := c.call(ctx, n, func(conn *wire.Conn) error {
			conn.SetDeadline(c.ioDeadline())
			if err := conn.Send(wire.TypeCommit, wire.StatusOK, wire.CommitReq{Path: e.Name, Upload: upload, Meta: m}); err != nil {
				return err
			}
			return conn.Recv(wire.TypeCommit, &resp)
		})
		if errors.Is(err, ErrStale) {
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
			err = fmt.Errorf("%s: %w in chunk %d", c.nodes[from].name, ErrCorrupt, ch+1)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		info := e.Chunks[ch]
		if err := c.putChunk(ctx, to, upload, ch, io.NewSectionReader(tmp, 0, size), info, func(int64) {}); err != nil {
			return 0, err
		}
		return size, nil
	}
	if len(errs) == 0 {
		return 0, fmt.Errorf("chunk %d: no other copy to copy from", ch+1)
	}
	return 0, fmt.Errorf("chunk %d: %w", ch+1, errors.Join(errs...))
}

// healTombstone replays a delete on nodes that still hold the entry, and
// purges the tombstone once every node has it. A folder's removal is
// replayed as heal's (UpdateReq.Heal): what the node still holds under it
// and is older was removed on the others while it was away (its deletes,
// replayed first, may be gone already).
func (c *Client) healTombstone(ctx context.Context, e *Entry, up []int, rep *HealReport) error {
	m := metaOf(e)
	op := wire.UpdateDelete
	if e.Dir {
		op = wire.UpdateRmdir
	}
	for _, n := range up {
		raw := e.Raw[n]
		if raw == nil || raw.Deleted {
			continue
		}
		err := c.request(ctx, n, wire.TypeUpdate, wire.UpdateReq{Op: op, Path: e.Name, Meta: m, Heal: true}, nil)
		if errors.Is(err, ErrStale) {
			continue
		}
		if err != nil {
			return err
		}
		rep.Tombstones++
	}
	if len(up) < NumNodes {
		return nil // a node that is down may still hold the entry: keep the tombstone
	}
	for _, n := range up {
		if e.Raw[n] == nil {
			continue
		}
		if err := c.request(ctx, n, wire.TypePurge, wire.PurgeReq{Path: e.Name, Stamp: e.Stamp}, nil); err != nil {
			return err
		}
	}
	rep.Purged++
	return nil
}
