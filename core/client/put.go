package client

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// PutOptions are a file's attributes and progress reporting for Put.
type PutOptions struct {
	Mode     os.FileMode // permission bits; 0 means 0644
	MTime    time.Time   // zero means now
	Progress func(done int64)
	// Sync makes Put return only once the version is on the nodes' disks
	// (fsync). Without it Put returns once every node that took a copy has
	// applied it; the nodes write it to disk within their flush delay.
	Sync bool
	// MD5 is the content's MD5 when the caller computed it while the data
	// was written (the mount does), sparing Put a read of the whole file.
	MD5 []byte
}

// PutResult says how a Put was stored.
type PutResult struct {
	Version string
	State   State         // StateDegraded when some chunk got only one copy
	Failed  map[int]error // nodes that could not take their chunks
	Entry   Entry         // the entry as committed (Copies and State as the nodes reported)
	File    *File         // the version committed (Version), to read it back without asking the nodes (no read-ahead: Reopen for it); nil when another commit won
}

// put stores size bytes of r as a new version of name. Every chunk goes to
// both nodes the placement table names; the version is committed when every
// chunk has at least one copy (reduced redundancy is reported in the result),
// and otherwise nothing is committed and any earlier version stays current.
// r is read twice: once for the MD5 that decides the placement (unless
// opt.MD5 gives it), once to send the chunks.
func (c *Client) put(ctx context.Context, name string, r io.ReaderAt, size int64, opt PutOptions) (PutResult, error) {
	name, err := core.CleanName(name)
	if err != nil {
		return PutResult{}, err
	}
	if name == "" {
		return PutResult{}, fmt.Errorf("%w: cannot write the top folder", core.ErrIsDir)
	}
	sum := opt.MD5
	if len(sum) != md5.Size {
		if sum, err = HashMD5(r, size); err != nil {
			return PutResult{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return PutResult{}, err
	}
	x := core.PlacementX(sum)
	upload := newUploadID()
	var done atomic.Int64 // bytes sent, each counted once per copy
	progress := func(n int64) {
		if opt.Progress != nil {
			opt.Progress(done.Add(n) / 2)
		}
	}
	if allInline(size) {
		return c.putSmall(ctx, name, r, size, sum, x, upload, opt, progress)
	}
	sent := c.send(ctx, name, r, size, x, upload, progress)
	if err := ctx.Err(); err != nil {
		return PutResult{}, err
	}
	if err := firstErr(overQuota(c, sent.errs, "the file was not stored; the previous version, if any, is unchanged"),
		coverage(c, x, sent.errs, "stored")); err != nil {
		c.dropUpload(ctx, upload, answered(sent.errs))
		return PutResult{}, err
	}
	meta := newMeta(size, sum, sent.chunks, opt)
	waves := commitWaves
	if newEverywhere(sent) {
		waves = oneWave
	}
	return c.commit(ctx, name, upload, meta, x, sent.errs, opt.Sync, waves)
}

// newMeta is the meta of a new version, stamped now.
func newMeta(size int64, sum []byte, chunks [core.NumChunks]wire.ChunkInfo, opt PutOptions) wire.Meta {
	mode := uint32(opt.Mode.Perm())
	if opt.Mode == 0 {
		mode = 0o644
	}
	mtime := opt.MTime
	if mtime.IsZero() {
		mtime = time.Now()
	}
	v := core.NewVersion()
	return wire.Meta{
		Stamp: v, Born: v, Version: v, Size: size, Mode: mode, MTime: mtime.UnixNano(),
		MD5: hex.EncodeToString(sum), Chunks: chunks,
	}
}

// newEverywhere reports whether every node took its chunks and none holds
// an entry at the name: there is no previous version to keep whole, so all
// four can commit at once.
func newEverywhere(sent sendResult) bool {
	for n := range sent.exists {
		if sent.exists[n] || sent.errs[n] != nil {
			return false
		}
	}
	return true
}

// HashMD5 reads size bytes of r and returns their MD5, which decides a
// file's placement.
func HashMD5(r io.ReaderAt, size int64) ([]byte, error) {
	h := md5.New()
	buf := blockPool.Get().(*[]byte)
	defer blockPool.Put(buf)
	if _, err := io.CopyBuffer(h, io.NewSectionReader(r, 0, size), *buf); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return h.Sum(nil), nil
}

// commitWaves orders commits so that a writer killed between them leaves a
// whole version readable: DFS1+DFS3 hold every chunk, and so do DFS2+DFS4, so
// the old version stays whole on one pair while the other pair switches.
var commitWaves = [][]int{{0, 2}, {1, 3}}

// oneWave commits a new file (no node had one) everywhere at once.
var oneWave = [][]int{allNodes}

// commit sends the commits wave by wave. With sync the last wave's commits
// wait for the nodes' disks, and the first wave's nodes are asked to flush
// at the same time (SYNC), so durability costs one flush, not one per wave;
// a node whose flush fails counts as not holding its copies.
func (c *Client) commit(ctx context.Context, name, upload string, meta wire.Meta, x int, sendErrs []error, sync bool, waves [][]int) (PutResult, error) {
	cErrs := make([]error, core.NumNodes)
	held := make([][]int, core.NumNodes)
	stale := 0
	for w, wave := range waves {
		last := w == len(waves)-1
		targets := wave
		if sync && last && w > 0 {
			for _, n := range waves[0] {
				if cErrs[n] == nil {
					targets = append(slices.Clone(targets), n)
				}
			}
		}
		g := c.startGroup(ctx, targets, func(ctx context.Context, n int) error {
			if !slices.Contains(wave, n) {
				return c.syncNode(ctx, n)
			}
			var err error
			held[n], err = c.commitOn(ctx, n, wire.CommitReq{Path: name, Upload: upload, Meta: meta, Sync: sync && last})
			return err
		})
		// A hung node is left behind only while each of its chunks has
		// another copy: sent, and committed or still to be.
		g.canLeave = func(n int) bool {
			return othersHold(x, n, func(m int) bool {
				return sendErrs[m] == nil && cErrs[m] == nil && (!slices.Contains(targets, m) || g.succeeded(m))
			})
		}
		errs := g.wait()
		for _, n := range targets {
			cErrs[n] = firstErr(cErrs[n], errs[n])
			if slices.Contains(wave, n) && errors.Is(errs[n], core.ErrStale) {
				stale++
			}
		}
	}
	if stale > 0 {
		return c.afterStale(ctx, name, meta)
	}
	for n := range cErrs {
		cErrs[n] = firstErr(sendErrs[n], cErrs[n])
	}
	return c.committed(name, meta, x, cErrs, held)
}

// commitOn sends req (COMMIT) to node n and returns the chunks of the
// version the node holds.
func (c *Client) commitOn(ctx context.Context, n int, req wire.CommitReq) ([]int, error) {
	var held []int
	err := c.call(ctx, n, func(s *stub) error {
		var err error
		held, err = s.commit(req)
		return err
	})
	return held, err
}

// committed reports how a version was committed: on the nodes without an
// error, holding the chunks they said.
func (c *Client) committed(name string, meta wire.Meta, x int, errs []error, held [][]int) (PutResult, error) {
	res := PutResult{Version: meta.Version, Failed: map[int]error{}}
	var copies [core.NumChunks][]int
	for n := 0; n < core.NumNodes; n++ {
		if err := errs[n]; err != nil {
			res.Failed[n] = err
			continue
		}
		for _, ch := range held[n] {
			if ch >= 0 && ch < core.NumChunks && core.NodeHolds(x, n, ch) {
				copies[ch] = append(copies[ch], n)
			}
		}
	}
	res.State = stateOf(copies)
	res.Entry = fromMeta(name, &meta)
	res.Entry.Copies, res.Entry.State = copies, res.State
	res.File = &File{c: c, e: res.Entry}
	if res.State == StateIncomplete {
		return res, fmt.Errorf("%w: commit failed: %s", failureKind(slices.Collect(maps.Values(res.Failed))...), c.describe(res.Failed))
	}
	return res, nil
}

// afterStale decides what a commit refused as stale by some node means: a
// newer stamp reached that node first (another writer, a delete, or an
// attribute change). If readers now get our version, its state is reported
// as the nodes hold it; otherwise ours was overwritten as if it had come
// first, which is a success. (An attribute change that stamped each node's
// own version alike is resolved by choose, which prefers the newer content
// on equal stamps.) A commit is not retried with a newer stamp: the stale
// nodes have dropped the upload, and a retry would race the other writer.
func (c *Client) afterStale(ctx context.Context, name string, meta wire.Meta) (PutResult, error) {
	e, err := c.stat(ctx, name)
	switch {
	case errors.Is(err, core.ErrNotFound):
		return PutResult{Version: meta.Version, State: StateOK}, nil
	case err != nil:
		return PutResult{Version: meta.Version}, err
	case e.Version == meta.Version && e.State == StateIncomplete:
		return PutResult{Version: meta.Version, State: e.State}, fmt.Errorf("%w: %s: commit incomplete", core.ErrUnavailable, name)
	case e.Version == meta.Version:
		return PutResult{Version: meta.Version, State: e.State, Failed: map[int]error{}}, nil
	}
	return PutResult{Version: meta.Version, State: StateOK}, nil
}

// othersHold reports whether every chunk node n holds under placement x
// has its other holder m with ok(m).
func othersHold(x, n int, ok func(m int) bool) bool {
	for _, ch := range core.NodeChunks(x, n) {
		for _, m := range core.ChunkNodes(x, ch) {
			if m != n && !ok(m) {
				return false
			}
		}
	}
	return true
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// dropUpload tells nodes that took chunks of upload, which will not be
// committed, to remove them now (DROP), so that they stop counting against
// the user's quota instead of waiting out the nodes' staging timeout. A
// node that does not take it removes them at that timeout.
func (c *Client) dropUpload(ctx context.Context, upload string, nodes []int) {
	c.fanout(ctx, nodes, func(ctx context.Context, n int) error {
		return c.call(ctx, n, func(s *stub) error { return s.drop(upload) })
	})
}

// answered lists the nodes whose errs (per node) are answers: those may
// hold chunks.
func answered(errs []error) []int {
	var nodes []int
	for n, err := range errs {
		if isAnswer(err) {
			nodes = append(nodes, n)
		}
	}
	return nodes
}

// overQuota fails a put that a node refused because the user is over
// quota there (core.ErrQuota), even where every chunk has a copy on
// another node: the put would only lose redundancy now, and heal could
// not restore it, so the user learns of the quota at once. The error
// names every node that refused with its message (once for nodes that said
// the same), and then says what became of the file.
func overQuota(c *Client, errs []error, outcome string) error {
	var msgs []string              // in node order
	nodes := map[string][]string{} // message -> labels of the nodes that said it
	for n, err := range errs {
		var ne *nodeError
		if !errors.Is(err, core.ErrQuota) || !errors.As(err, &ne) {
			continue
		}
		if nodes[ne.msg] == nil {
			msgs = append(msgs, ne.msg)
		}
		nodes[ne.msg] = append(nodes[ne.msg], c.nodes[n].label)
	}
	if len(msgs) == 0 {
		return nil
	}
	var parts []string
	for _, m := range msgs {
		parts = append(parts, strings.Join(nodes[m], ", ")+": "+m)
	}
	return &nodeError{kind: core.ErrQuota, msg: strings.Join(parts, "; ") + "; " + outcome}
}

// coverage checks that every chunk reached at least one of its nodes.
func coverage(c *Client, x int, errs []error, verb string) error {
	var missing []string
	var causes []error
	for ch := 0; ch < core.NumChunks; ch++ {
		nodes := core.ChunkNodes(x, ch)
		if errs[nodes[0]] != nil && errs[nodes[1]] != nil {
			missing = append(missing, fmt.Sprintf("chunk %d (%s and %s)", ch+1, c.nodes[nodes[0]].name, c.nodes[nodes[1]].name))
			causes = append(causes, errs[nodes[0]], errs[nodes[1]])
		}
	}
	if len(missing) == 0 {
		return nil
	}
	failed := map[int]error{}
	for n, e := range errs {
		if e != nil {
			failed[n] = e
		}
	}
	return fmt.Errorf("%w: %s could not be %s: %s; the previous version, if any, is unchanged",
		failureKind(causes...), strings.Join(missing, ", "), verb, c.describe(failed))
}

// failureKind is the sentinel of a put that failed because of errs: no
// space or busy when a node said so, else not enough nodes.
func failureKind(errs ...error) error {
	kind := core.ErrUnavailable
	for _, e := range errs {
		for _, k := range []error{core.ErrNoSpace, core.ErrBusy} {
			if errors.Is(e, k) {
				kind = k
			}
		}
	}
	return kind
}

// describe lists node errors as "DFS2: ..., DFS3: ...".
func (c *Client) describe(failed map[int]error) string {
	var parts []string
	for n := 0; n < core.NumNodes; n++ {
		if err, ok := failed[n]; ok {
			parts = append(parts, err.Error())
		}
	}
	return strings.Join(parts, "; ")
}
