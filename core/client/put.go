package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// PutOptions are a file's attributes and progress reporting for Put.
type PutOptions struct {
	Mode  os.FileMode // permission bits (rwx, and setuid, setgid, sticky as flags or Unix bits); 0 means 0644
	MTime time.Time   // zero means now
	// ExactMode stores Mode as it is, 0 included (a mount's create with
	// mode 0); without it a Mode of 0 means 0644.
	ExactMode bool
	UID, GID  uint32    // numeric owner and group: the creator's (the mount's caller; dfc's own)
	ATime     time.Time // zero means MTime
	// Born, when set, is the Born the version gets (Draft.Commit): the
	// identity (Entry.Ino) its writer already gave the file, as a mount
	// does for a file it creates before anything is stored. Empty: the
	// base's, or the replaced file's, or a new one.
	Born     string
	Progress func(done int64)
	// Sync makes Put return only once the version is on the nodes' disks
	// (fsync). Without it Put returns once every node that took a copy has
	// applied it; the nodes write it to disk within their flush delay.
	Sync bool
}

// PutResult says how a Put was stored.
type PutResult struct {
	Version string
	State   State         // StateDegraded when some chunk got only one copy
	Failed  map[int]error // nodes that could not take their chunks
	Entry   Entry         // the entry as committed (Copies and State as the nodes reported)
	File    *File         // the version committed (Version), to read it back without asking the nodes (no read-ahead: Reopen for it); nil when another commit won
}

// putInFlight is how many segments Put reads and sends at once: while one
// is read and hashed, the others are on the wire. Each holds a segment's
// buffer (core.SegmentSize), so a Put holds at most this many.
const putInFlight = 3

// put stores size bytes of r as a new version of name, segment by segment
// (a Draft): every chunk of every segment goes to both nodes the segment's
// placement names; the version is committed when every chunk has at least
// one copy (reduced redundancy is reported in the result), and otherwise
// nothing is committed and any earlier version stays current. r is read
// once, a segment at a time, putInFlight segments at most in memory;
// segments of zeros are stored as holes.
func (c *Client) put(ctx context.Context, name string, r io.ReaderAt, size int64, opt PutOptions) (PutResult, error) {
	name, err := cleanName(name)
	if err != nil {
		return PutResult{}, err
	}
	if name == "" {
		return PutResult{}, fmt.Errorf("%w: cannot write the top folder", core.ErrIsDir)
	}
	if size < 0 {
		return PutResult{}, fmt.Errorf("BUG: put of %d bytes", size)
	}
	if err := core.CheckFileSize(size); err != nil {
		return PutResult{}, fmt.Errorf("put %s: %w", name, err)
	}
	if size > 0 && allInline(size) {
		data := make([]byte, size)
		if _, err := r.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
			return PutResult{}, fmt.Errorf("read: %w", err)
		}
		if !core.AllZero(data) {
			return c.putSmall(ctx, name, data, opt)
		}
	}
	// The folders above name first (a put makes them, as mkdir -p), so
	// that a put into a file fails before its data is sent.
	if _, err := c.sealerAt(ctx, name, &owner{opt.UID, opt.GID}); err != nil {
		return PutResult{}, err
	}
	d := c.NewDraft(name, nil)
	var done atomic.Int64 // bytes sent, each counted once per copy
	d.progress = func(n int64) {
		if opt.Progress != nil {
			opt.Progress(done.Add(n) / 2)
		}
	}
	if err := d.putAll(ctx, r, size); err != nil {
		d.Abort(context.WithoutCancel(ctx))
		return PutResult{}, err
	}
	if err := ctx.Err(); err != nil {
		d.Abort(context.WithoutCancel(ctx))
		return PutResult{}, err
	}
	return d.Commit(ctx, size, opt)
}

// putAll reads size bytes of r segment by segment and puts each into d,
// putInFlight at a time. The first failure stops the segments not yet
// started; those in flight finish (cancelled, a node could still stage a
// chunk it had whole after the DROP that follows a failure).
func (d *Draft) putAll(ctx context.Context, r io.ReaderAt, size int64) error {
	var mu sync.Mutex
	var first error
	failed := func() error {
		mu.Lock()
		defer mu.Unlock()
		return first
	}
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	bufs := make(chan []byte, putInFlight)
	for range putInFlight {
		bufs <- nil // made on first use: a small file takes a small buffer
	}
	var wg sync.WaitGroup
	for k := int64(0); k < core.NumSegments(size) && failed() == nil; k++ {
		var buf []byte
		select {
		case buf = <-bufs:
		case <-ctx.Done():
			fail(ctx.Err())
		}
		if failed() != nil {
			break
		}
		start, end := core.SegmentSpan(size, k)
		if buf == nil {
			buf = make([]byte, min(core.SegmentSize, size))
		}
		data := buf[:end-start]
		if n, err := r.ReadAt(data, start); err != nil && !(errors.Is(err, io.EOF) && n == len(data)) {
			fail(fmt.Errorf("read: %w", err))
			break
		}
		wg.Go(func() {
			defer func() { bufs <- buf }()
			if err := d.PutSegment(ctx, k, data); err != nil {
				fail(err)
			}
		})
	}
	wg.Wait()
	return failed()
}

// newMeta is the meta of a new version of size bytes stored as segs,
// stamped now.
func newMeta(size int64, segs []wire.Segment, opt PutOptions) wire.Meta {
	mode := unixPerm(opt.Mode)
	if opt.Mode == 0 && !opt.ExactMode {
		mode = 0o644
	}
	v := core.NewVersion()
	now := core.VersionTime(v)
	mtime := opt.MTime
	if mtime.IsZero() {
		mtime = now
	}
	atime := opt.ATime
	if atime.IsZero() {
		atime = mtime
	}
	return wire.Meta{
		Stamp: v, Born: v, Version: v, Size: size, Mode: mode, MTime: mtime.UnixNano(),
		ATime: atime.UnixNano(), CTime: now.UnixNano(), UID: opt.UID, GID: opt.GID, Segments: segs,
	}
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
//
// Each node's commit asks for the chunks it took under the upload (need):
// one that lost them refuses and changes nothing. Between the waves the
// version must be whole counting what the first wave's nodes hold and what
// the later ones are expected to (see expected.afterWave); otherwise the
// later waves are not sent and the commit fails naming the chunks missing:
// the previous version stays whole on the nodes of the later waves, and
// readers fall back to it, as after a writer killed between the waves.
func (c *Client) commit(ctx context.Context, name, upload string, meta wire.Meta, expect expected, sendErrs []error, sync bool, waves [][]int) (PutResult, error) {
	cErrs := make([]error, core.NumNodes)
	held := make([][]uint8, core.NumNodes)
	stale := 0
	var done []int
	for w, wave := range waves {
		if w > 0 && stale == 0 {
			if err := c.checkWhole(name, meta, &expect, held, cErrs, sendErrs, done, slices.Concat(waves[w:]...)); err != nil {
				return PutResult{Version: meta.Version, State: StateIncomplete}, err
			}
		}
		done = append(done, wave...)
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
			held[n], err = c.commitOn(ctx, n, wire.CommitReq{Path: name, Upload: upload, Meta: meta, Sync: sync && last, Need: expect.need(n)})
			return err
		})
		// A hung node is left behind only while each of its chunks has
		// another copy: sent, and committed or still to be.
		g.canLeave = func(n int) bool {
			return othersHold(meta.Segments, n, func(m int) bool {
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
	return c.committed(name, meta, cErrs, held)
}

// checkWhole fails a commit whose first waves (done) left the version
// with a chunk that no node holds or is expected to once the waves of rest
// commit: those are not to be sent.
func (c *Client) checkWhole(name string, meta wire.Meta, expect *expected, held [][]uint8, cErrs, sendErrs []error, done, rest []int) error {
	errs := make([]error, core.NumNodes)
	for n := range errs {
		errs[n] = firstErr(sendErrs[n], cErrs[n])
		if slices.Contains(done, n) {
			errs[n] = cErrs[n] // a node that committed says what it holds
		}
	}
	copies := expect.afterWave(meta.Segments, held, errs, done, rest)
	if stateOfAll(copies) != StateIncomplete {
		return nil
	}
	failed := map[int]error{}
	for _, n := range done {
		if cErrs[n] != nil {
			failed[n] = cErrs[n]
		}
	}
	e := Entry{Segments: meta.Segments, Copies: copies}
	msg := fmt.Sprintf("%s: commit stopped before %s: the new version would miss %s (the nodes dropped what was sent, or the segments it keeps from the version before)",
		name, c.nodeNames(rest), c.missingChunks(&e))
	if len(failed) > 0 {
		msg += "; " + c.describe(failed)
	}
	return fmt.Errorf("%w: %s; the previous version stays whole on %s", core.ErrIncomplete, msg, c.nodeNames(rest))
}

// nodeNames lists nodes as "DFS2 and DFS4".
func (c *Client) nodeNames(nodes []int) string {
	var names []string
	for _, n := range nodes {
		names = append(names, c.nodes[n].name)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// commitOn sends req (COMMIT) to node n and returns the chunks of the
// version's segments the node holds (wire.CommitResp).
func (c *Client) commitOn(ctx context.Context, n int, req wire.CommitReq) ([]uint8, error) {
	var held []uint8
	err := c.call(ctx, n, func(s *stub) error {
		var err error
		held, err = s.commit(req)
		return err
	})
	return held, err
}

// committed reports how a version was committed: on the nodes without an
// error, holding the chunks they said (only those the placement gives
// them count).
func (c *Client) committed(name string, meta wire.Meta, errs []error, held [][]uint8) (PutResult, error) {
	res := PutResult{Version: meta.Version, Failed: map[int]error{}}
	copies := make([][core.NumChunks][]int, len(meta.Segments))
	for n := 0; n < core.NumNodes; n++ {
		if err := errs[n]; err != nil {
			res.Failed[n] = err
			continue
		}
		for i, bits := range held[n] {
			if i >= len(copies) {
				break
			}
			x := meta.Segments[i].X()
			for ch := 0; ch < core.NumChunks; ch++ {
				if bits&(1<<ch) != 0 && core.NodeHolds(x, n, ch) {
					copies[i][ch] = append(copies[i][ch], n)
				}
			}
		}
	}
	res.State = stateOfAll(copies)
	res.Entry = fromMeta(name, &meta)
	res.Entry.Copies, res.Entry.State = copies, res.State
	res.File = &File{c: c, e: res.Entry}
	if res.State == StateIncomplete {
		msg := "missing " + c.missingChunks(&res.Entry)
		if len(res.Failed) > 0 {
			msg += "; " + c.describe(res.Failed)
		}
		return res, fmt.Errorf("%w: commit failed: %s", failureKind(slices.Collect(maps.Values(res.Failed))...), msg)
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

// othersHold reports whether every chunk node n holds of every segment of
// segs has its other holder m with ok(m).
func othersHold(segs []wire.Segment, n int, ok func(m int) bool) bool {
	for i := range segs {
		x := segs[i].X()
		for _, ch := range core.NodeChunks(x, n) {
			for _, m := range core.ChunkNodes(x, ch) {
				if m != n && !ok(m) {
					return false
				}
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

// coverage checks that every chunk of seg reached at least one of its
// nodes (errs: per node).
func coverage(c *Client, seg *wire.Segment, errs []error, verb string) error {
	x := seg.X()
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
	what := strings.Join(missing, ", ")
	if seg.Index > 0 {
		what = fmt.Sprintf("segment %d: %s", seg.Index, what)
	}
	return fmt.Errorf("%w: %s could not be %s: %s; the previous version, if any, is unchanged",
		failureKind(causes...), what, verb, c.describe(failed))
}

// failureKind is the sentinel of a put that failed because of errs: no
// space, busy, or chunks missing (a conditional commit refused) when a
// node said so, else not enough nodes.
func failureKind(errs ...error) error {
	kind := core.ErrUnavailable
	for _, e := range errs {
		for _, k := range []error{core.ErrNoSpace, core.ErrBusy, core.ErrIncomplete} {
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
