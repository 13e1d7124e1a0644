package client

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"dfs/core"
	"dfs/core/wire"
)

// Draft is a new version of a file being stored segment by segment: the
// segments of a base version it keeps (shared with the base on the nodes,
// never sent again), and those put into it. PutSegment sends a segment's
// chunks to their nodes at once (staged there under the draft's upload);
// Commit makes the version current; Abort gives it up. Put is written on
// top of it; the mount keeps one per file open for writing.
//
// A Draft's methods are safe for concurrent use, PutSegment included (for
// different segments). A draft commits once: after Commit (or Abort) make a
// new draft, on the committed File for a file written on.
type Draft struct {
	c        *Client
	name     string
	upload   string
	base     []wire.Segment          // the base version's segments (nil: new content)
	baseHeld [][core.NumChunks][]int // per segment of base: the nodes its entry said hold each chunk
	hasBase  bool
	born     string        // the Born the version keeps: base's, or the file's it replaces (stable Ino)
	progress func(n int64) // bytes sent, each copy counted (Put's progress)

	mu       sync.Mutex
	segs     map[int64]*draftSegment // put in this draft, by index; a hole has Size 0
	errs     [core.NumNodes]error    // each node's first failure in this draft
	took     [core.NumNodes]bool     // nodes sent chunks: they may hold staged ones (DROP on Abort)
	seen     [core.NumNodes]bool     // nodes that said whether they hold an entry at name
	exists   [core.NumNodes]bool     // a node said it holds a live entry at name
	replaced bool                    // a segment was put twice: the first one's chunks wait in staging
	done     bool                    // committed or aborted
}

// draftSegment is a segment put into a draft.
type draftSegment struct {
	seg    wire.Segment          // Size 0: a hole
	copies [core.NumChunks][]int // nodes that took each chunk
	inline []byte                // the bytes of a segment sent inline (nodes serve no staged inline chunk)
}

// errDraftDone is the error of a draft used after Commit or Abort.
var errDraftDone = errors.New("draft already committed or aborted")

// NewDraft starts a new version of name. With base nil it starts from
// nothing (every segment a hole until put); otherwise it keeps base's
// segments, and a segment put replaces base's at its index.
func (c *Client) NewDraft(name string, base *File) *Draft {
	d := &Draft{c: c, name: name, upload: newUploadID(), segs: map[int64]*draftSegment{}}
	if base != nil {
		d.base, d.baseHeld, d.hasBase, d.born = base.e.Segments, base.e.Copies, true, base.e.Born
	}
	return d
}

// Name returns the name the draft commits to.
func (d *Draft) Name() string { return d.name }

// Rename makes the draft commit to name: the file was renamed while it was
// written (the mount's case). Chunks are staged by upload and segment, not
// by name, so what was put stays; whether a node holds an entry at name is
// not known, so the commit takes two waves.
func (d *Draft) Rename(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.name = name
	d.seen = [core.NumNodes]bool{}
}

// Truncate drops the segments wholly past size (kept from the base or put
// into the draft). It returns the index of a segment that size cuts and
// that stores bytes past size, -1 if none: the caller must put that
// segment again, cut at size (its first size-k*core.SegmentSize bytes),
// before Commit, which refuses a segment holding more than its span.
func (d *Draft) Truncate(size int64) int64 {
	n := core.NumSegments(size)
	d.mu.Lock()
	defer d.mu.Unlock()
	for k := range d.segs {
		if k >= n {
			delete(d.segs, k)
			d.replaced = true
		}
	}
	// The base's too: grown again, the file reads zeros there, not them.
	i := 0
	for i < len(d.base) && d.base[i].Index < n {
		i++
	}
	d.base = d.base[:i:i]
	if len(d.baseHeld) > i {
		d.baseHeld = d.baseHeld[:i:i]
	}
	for k := range d.segs {
		if s := d.segs[k]; s.seg.Size > 0 && segmentStart(&s.seg)+s.seg.Size > size {
			return k
		}
	}
	if n > 0 {
		if s := d.keptLocked(n - 1); s != nil && segmentStart(s)+s.Size > size {
			return n - 1
		}
	}
	return -1
}

// keptLocked returns base's segment k if the draft keeps it (not put over).
func (d *Draft) keptLocked(k int64) *wire.Segment {
	if _, put := d.segs[k]; put {
		return nil
	}
	if i := findSegment(d.base, k); i >= 0 {
		return &d.base[i]
	}
	return nil
}

// PutSegment stores data (at most core.SegmentSize bytes: the start of
// segment k's span; the rest of the span reads as zeros) as segment k of
// the draft: it encrypts its four chunks, whose MD5 places them
// (sealed.go), and sends them to their nodes now, each to both the
// placement names. Data of zeros only (or none) makes k a hole:
// nothing is sent. It returns once every chunk has at least one copy; a
// chunk that no node took fails it, naming the nodes and why (a quota
// refusal fails it too), and the draft is left as it was for k. It may run
// concurrently for different k. A segment past core.MaxFileSize fails
// wrapping core.ErrTooLarge.
func (d *Draft) PutSegment(ctx context.Context, k int64, data []byte) error {
	if k < 0 || int64(len(data)) > core.SegmentSize {
		return fmt.Errorf("BUG: PutSegment(%d) of %d bytes", k, len(data))
	}
	if err := core.CheckFileSize(k*core.SegmentSize + int64(len(data))); err != nil {
		return fmt.Errorf("segment %d: %w", k, err)
	}
	d.mu.Lock()
	done := d.done
	d.mu.Unlock()
	if done {
		return errDraftDone
	}
	if core.AllZero(data) {
		d.record(k, &draftSegment{seg: wire.Segment{Index: k}})
		return nil
	}
	keys, err := d.c.keyring(ctx)
	if err != nil {
		return err
	}
	seg := wire.Segment{Index: k, ID: core.NewVersion(), Size: int64(len(data))}
	ss := sealSegment(keys, &seg, data)
	ds, err := d.sendSegment(ctx, &seg, data, ss)
	ss.release() // sendSegment copied what it sent
	if err != nil {
		return err
	}
	d.record(k, ds)
	return nil
}

// record puts ds into the draft as segment k.
func (d *Draft) record(k int64, ds *draftSegment) {
	d.mu.Lock()
	if old, ok := d.segs[k]; ok && old.seg.Size > 0 {
		d.replaced = true
	}
	d.segs[k] = ds
	d.mu.Unlock()
}

// sendSegment sends the chunks of seg (its bytes are data, encrypted ss) to
// the nodes its placement names and fills in their SHA-256s. A segment of
// one small file (index 0, every chunk at most wire.MaxInlineChunk
// encrypted) travels inline.
func (d *Draft) sendSegment(ctx context.Context, seg *wire.Segment, data []byte, ss *sealedSegment) (*draftSegment, error) {
	c, x := d.c, seg.X()
	ds := &draftSegment{}
	var nodeErrs [core.NumNodes]error
	var mu sync.Mutex // guards nodeErrs, ds.copies and d's per-node fields
	seen := func(n int, exists bool) {
		d.mu.Lock()
		d.seen[n] = true
		d.exists[n] = d.exists[n] || exists
		d.mu.Unlock()
	}
	progress := func(n int64) {
		if d.progress != nil {
			d.progress(n)
		}
	}
	var wg sync.WaitGroup
	for ch := 0; ch < core.NumChunks; ch++ {
		wg.Go(func() {
			sealed := ss.chunk(ch)
			sec := io.NewSectionReader(bytes.NewReader(sealed), 0, int64(len(sealed)))
			nodes := core.ChunkNodes(x, ch)
			d.mu.Lock()
			for _, n := range nodes {
				d.took[n] = true
			}
			d.mu.Unlock()
			info, errs := c.sendChunk(ctx, sec, d.name, seg.ID, ch, nodes, d.upload, progress, seen)
			seg.Chunks[ch] = info
			for i, n := range nodes {
				// A pooled connection the node had closed (it restarted)
				// fails at once: send that copy again on a fresh one.
				if errs[i] != nil && isStaleConn(errs[i]) && info.SHA256 != "" && ctx.Err() == nil {
					errs[i] = c.sendChunkTo(ctx, n, d.upload, seg.ID, ch, sec, info, progress)
					// The failed try never heard whether n holds an entry
					// at the name: assume it does, so that the commit
					// takes two waves (always safe), not one.
					seen(n, true)
				}
				mu.Lock()
				if errs[i] == nil {
					ds.copies[ch] = append(ds.copies[ch], n)
				} else if nodeErrs[n] == nil {
					nodeErrs[n] = errs[i]
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := firstErr(overQuota(c, nodeErrs[:], "the file was not stored; the previous version, if any, is unchanged"),
		coverage(c, seg, nodeErrs[:], "stored")); err != nil {
		// The draft is left as it was for k: a later put of it (the
		// mount retries once the user is under quota) starts clean.
		return nil, err
	}
	d.mu.Lock()
	for n, err := range nodeErrs {
		if err != nil && d.errs[n] == nil {
			d.errs[n] = err
		}
	}
	d.mu.Unlock()
	for ch := range seg.Chunks {
		slices.Sort(ds.copies[ch])
	}
	ds.seg = *seg
	if seg.Index == 0 && allInline(seg.Size) {
		ds.inline = bytes.Clone(data)
	}
	return ds, nil
}

// ReadSegment reads into p the bytes of segment k at off (off+len(p) at
// most core.SegmentSize) as the draft holds it: put into it and not yet
// committed (read back from the nodes' staging: a writer that dropped its
// own copy), or kept from the base, or a hole. Bytes past what the segment
// stores read as zeros. It fills p or fails.
func (d *Draft) ReadSegment(ctx context.Context, k int64, p []byte, off int64) (int, error) {
	if k < 0 || off < 0 || off+int64(len(p)) > core.SegmentSize {
		return 0, fmt.Errorf("BUG: ReadSegment(%d) of %d bytes at %d", k, len(p), off)
	}
	d.mu.Lock()
	if d.done {
		d.mu.Unlock()
		return 0, errDraftDone
	}
	ds := d.segs[k]
	kept := d.keptLocked(k)
	d.mu.Unlock()
	clear(p)
	switch {
	case ds != nil && ds.seg.Size == 0:
		return len(p), nil
	case ds != nil && ds.inline != nil:
		if off < int64(len(ds.inline)) {
			copy(p, ds.inline[off:])
		}
		return len(p), nil
	case ds != nil:
		return len(p), d.readStored(ctx, &ds.seg, ds.copies, d.upload, p, off)
	case kept != nil:
		var copies [core.NumChunks][]int
		x := kept.X()
		for ch := range copies {
			nodes := core.ChunkNodes(x, ch) // the base's copies are not known here: ask its nodes
			copies[ch] = nodes[:]
		}
		return len(p), d.readStored(ctx, kept, copies, "", p, off)
	}
	return len(p), nil
}

// readStored fills p (cleared) from seg at off, chunk by chunk, from the
// nodes in copies (staged under upload when it is set).
func (d *Draft) readStored(ctx context.Context, seg *wire.Segment, copies [core.NumChunks][]int, upload string, p []byte, off int64) error {
	end := min(off+int64(len(p)), seg.Size)
	for pos := off; pos < end; {
		ch := core.ChunkOf(seg.Size, pos)
		cs, ce := core.ChunkBounds(seg.Size, ch)
		n := min(ce, end) - pos
		loc := chunkLoc{path: d.name, upload: upload, seg: seg, ch: ch, holders: copies[ch]}
		if err := d.c.readRange(ctx, &loc, pos-cs, p[pos-off:pos-off+n]); err != nil {
			return err
		}
		pos += n
	}
	return nil
}

// Commit makes the draft a version of size bytes (others' segments past
// size dropped), with the attributes of opt: base's segments kept and those
// put, committed on every node in the waves that keep the previous version
// whole. It fails if a segment holds bytes past size (see Truncate), and
// if the commit left a chunk without a copy (the result then says how it
// was left), or wrapping core.ErrTooLarge if size is past
// core.MaxFileSize. The draft is done once the commits are sent.
func (d *Draft) Commit(ctx context.Context, size int64, opt PutOptions) (PutResult, error) {
	if err := core.CheckFileSize(size); err != nil {
		return PutResult{}, err
	}
	d.Truncate(size)
	s, err := d.c.sealerAt(ctx, d.name, &owner{opt.UID, opt.GID})
	if err != nil {
		return PutResult{}, err
	}
	born := opt.Born
	if born == "" {
		born = d.keptBorn(ctx)
	}
	d.mu.Lock()
	if d.done {
		d.mu.Unlock()
		return PutResult{}, errDraftDone
	}
	segs, expect := d.segmentsLocked()
	meta := newMeta(size, segs, opt)
	if born != "" {
		meta.Born = born
	}
	if err := wire.CheckSegments(&meta); err != nil {
		d.mu.Unlock()
		return PutResult{}, fmt.Errorf("%s: %w (a segment cut by the size must be put again cut)", d.name, err)
	}
	s.seal(&meta)
	d.done = true
	sendErrs := slices.Clone(d.errs[:])
	waves := commitWaves
	if len(segs) == 0 || !d.hasBase && d.newEverywhereLocked() {
		// No previous version to keep whole, or a version that is whole
		// wherever it is committed (no segments): all at once.
		waves = oneWave
	}
	dropAfter := d.replaced
	took := d.tookLocked()
	d.mu.Unlock()
	// Through the listing cache, as every change of a name: a mount's
	// lookups answered from it would see the version before, or no file.
	res, err := change(d.c.names, []string{core.Parent(d.name)},
		func() (PutResult, error) {
			return s.committed(d.c.commit(ctx, d.name, d.upload, meta, expect, sendErrs, opt.Sync, waves))
		},
		func(res PutResult) {
			d.c.names.setLocked(res.Entry)
			if !d.hasBase { // perhaps a new name: its folder's times moved
				d.c.names.bumpedLocked(d.name)
			}
		})
	if dropAfter {
		// Chunks of segments put over in this draft are still staged.
		d.c.dropUpload(ctx, d.upload, took)
	}
	return res, err
}

// segmentsLocked returns the segments of the version the draft makes, in
// order (base's kept and those put, holes left out), and which nodes
// should hold their chunks: those that took a put one's, those the base's
// entry named for a kept one.
func (d *Draft) segmentsLocked() ([]wire.Segment, expected) {
	type listed struct {
		seg  wire.Segment
		held [core.NumChunks][]int
		put  bool
	}
	var all []listed
	for i := range d.base {
		if s := d.keptLocked(d.base[i].Index); s != nil {
			l := listed{seg: *s}
			if i < len(d.baseHeld) {
				l.held = d.baseHeld[i]
			}
			all = append(all, l)
		}
	}
	for _, ds := range d.segs {
		if ds.seg.Size > 0 {
			all = append(all, listed{seg: ds.seg, held: ds.copies, put: true})
		}
	}
	slices.SortFunc(all, func(a, b listed) int { return cmp.Compare(a.seg.Index, b.seg.Index) })
	segs := make([]wire.Segment, len(all))
	expect := expected{staged: make([][core.NumChunks][]int, len(all)), kept: make([][core.NumChunks][]int, len(all))}
	for i, l := range all {
		segs[i] = l.seg
		if l.put {
			expect.staged[i] = l.held
		} else {
			expect.kept[i] = l.held
		}
	}
	return segs, expect
}

// newEverywhereLocked reports whether every node took its chunks and none
// holds an entry at the name: there is no previous version to keep whole,
// so all four can commit at once.
func (d *Draft) newEverywhereLocked() bool {
	for n := range d.seen {
		if !d.seen[n] || d.exists[n] || d.errs[n] != nil {
			return false
		}
	}
	return true
}

func (d *Draft) tookLocked() []int {
	var nodes []int
	for n, t := range d.took {
		if t {
			nodes = append(nodes, n)
		}
	}
	return nodes
}

// Abort gives the draft up: the nodes that took chunks of it drop them now
// (DROP), rather than at their staging timeout. The file is unchanged.
func (d *Draft) Abort(ctx context.Context) {
	d.mu.Lock()
	if d.done {
		d.mu.Unlock()
		return
	}
	d.done = true
	took := d.tookLocked()
	d.mu.Unlock()
	if len(took) > 0 {
		d.c.dropUpload(ctx, d.upload, took)
	}
}

// Stores returns the bytes the draft stores of segment k (0: a hole), and
// whether they were put into it (ReadSegment reads them back) rather than
// kept from the base (the base version reads them). The draft is where a
// writer's record of what is stored lives: ask it, do not keep a copy.
func (d *Draft) Stores(k int64) (n int64, put bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ds, ok := d.segs[k]; ok {
		return ds.seg.Size, true
	}
	if i := findSegment(d.base, k); i >= 0 {
		return d.base[i].Size, false
	}
	return 0, false
}

// Stored returns the bytes the draft's segments store so far (kept and put;
// holes cost nothing): a file's blocks.
func (d *Draft) Stored() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	var n int64
	for i := range d.base {
		if s := d.keptLocked(d.base[i].Index); s != nil {
			n += s.Size
		}
	}
	for _, ds := range d.segs {
		n += ds.seg.Size
	}
	return n
}
