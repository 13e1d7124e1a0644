package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"dfs/core"
	"dfs/core/crypt"
	"dfs/core/wire"
)

// chunkLoc names one chunk of a stored segment to read, and where.
type chunkLoc struct {
	path    string        // an entry that refers to the segment (nodes look there for inline chunks)
	upload  string        // set: the chunk is staged by this upload, not committed (Draft.ReadSegment)
	seg     *wire.Segment // the segment
	ch      int           // the chunk
	holders []int         // nodes to try, best first
	e       *Entry        // the entry read, for read repair; nil for none
	i       int           // seg's position in e.Segments
}

// stored is the chunk's size on the nodes (encrypted).
func (l *chunkLoc) stored() int64 { return l.seg.Chunks[l.ch].Size }

// name is how errors name the chunk.
func (l *chunkLoc) name() string {
	if l.seg.Index == 0 {
		return fmt.Sprintf("chunk %d", l.ch+1)
	}
	return fmt.Sprintf("segment %d chunk %d", l.seg.Index, l.ch+1)
}

// loc returns where to read chunk ch of stored segment i of e.
func (c *Client) loc(e *Entry, i, ch int) chunkLoc {
	return chunkLoc{path: e.Name, seg: &e.Segments[i], ch: ch, holders: c.holders(e, i, ch), e: e, i: i}
}

// holders returns the nodes to try for chunk ch of e's segment i, best
// first: the node whose first chunk it is (so that with all nodes up each
// node sends one chunk), then the other copy; nodes being skipped go last.
func (c *Client) holders(e *Entry, i, ch int) []int {
	x := e.Segments[i].X()
	out := make([]int, 0, 2)
	for _, n := range e.Copies[i][ch] {
		if core.NodeChunks(x, n)[0] == ch {
			out = append([]int{n}, out...)
		} else {
			out = append(out, n)
		}
	}
	if len(out) == 2 && c.nodes[out[0]].isDown() {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

// missingChunks names the chunks of e that have no copy (the first few).
func (c *Client) missingChunks(e *Entry) string {
	var parts []string
	more := 0
	for i := range e.Segments {
		x := e.Segments[i].X()
		for ch := 0; ch < core.NumChunks; ch++ {
			if len(e.Copies[i][ch]) > 0 {
				continue
			}
			if len(parts) == 8 {
				more++
				continue
			}
			nodes := core.ChunkNodes(x, ch)
			what := fmt.Sprintf("chunk %d", ch+1)
			if len(e.Segments) > 1 || e.Segments[i].Index > 0 {
				what = fmt.Sprintf("segment %d chunk %d", e.Segments[i].Index, ch+1)
			}
			parts = append(parts, fmt.Sprintf("%s (on %s or %s)", what, c.nodes[nodes[0]].name, c.nodes[nodes[1]].name))
		}
	}
	if more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more chunks", more))
	}
	return strings.Join(parts, ", ")
}

// Open returns the newest whole version of a file for reading.
func (c *Client) Open(ctx context.Context, name string) (*File, error) {
	e, err := c.names.open(ctx, name)
	if err != nil {
		return nil, err
	}
	return c.openEntry(e)
}

// openEntry opens the version e describes without asking the nodes again.
func (c *Client) openEntry(e Entry) (*File, error) {
	name := e.Name
	if e.Dir {
		return nil, fmt.Errorf("%s: %w", name, core.ErrIsDir)
	}
	if e.IsSpecial() {
		return nil, fmt.Errorf("%s: %w", name, core.ErrNotFile)
	}
	if e.State == StateIncomplete {
		return nil, fmt.Errorf("%w: %s: missing %s", core.ErrIncomplete, name, c.missingChunks(&e))
	}
	return c.newFile(e), nil
}

// newFile returns a reader of version e with read-ahead of its own.
func (c *Client) newFile(e Entry) *File {
	return &File{c: c, e: e, ra: readAhead{budget: c.raBudget, idleAfter: readAheadIdle}}
}

// Reopen returns another reader of the version f reads, with read-ahead of
// its own, found at name: f's own name, or where this client renamed the
// file since (a rename keeps the version).
func (f *File) Reopen(name string) *File {
	e := f.e
	e.Name = name
	return f.c.newFile(e)
}

// File is one version of a file, open for reading. Reads never mix versions:
// a read after the version was replaced on the nodes fails with ErrStale.
type File struct {
	c  *Client
	e  Entry
	ra readAhead
}

// Close releases what the file holds for reading ahead. ReadAt after Close
// still works, without read-ahead.
func (f *File) Close() error {
	f.ra.close()
	return nil
}

// Entry returns the version being read.
func (f *File) Entry() Entry { return f.e }

// ReadAt reads len(p) bytes at off (fewer at the end of the file, with io.EOF).
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	return f.ReadAtContext(context.Background(), p, off)
}

// ReadAtContext is ReadAt with a context. Sequential reads are served by
// read-ahead (see readahead.go); others go to the nodes as they come.
func (f *File) ReadAtContext(ctx context.Context, p []byte, off int64) (int, error) {
	size := f.e.Size
	if off >= size {
		return 0, io.EOF
	}
	want := p
	if int64(len(want)) > size-off {
		want = want[:size-off]
	}
	n := len(want)
	if !f.ra.read(ctx, f, want, off) {
		var err error
		if n, err = f.readDirect(ctx, want, off); err != nil {
			return n, err
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// readDirect reads all of want at off from the nodes, or fails saying how
// much it read. Holes and the ends of segments past what they store read as
// zeros without asking anyone.
func (f *File) readDirect(ctx context.Context, want []byte, off int64) (int, error) {
	e := &f.e
	// One piece per chunk the range touches, fetched in parallel (a small
	// file's chunks are on four nodes).
	type part struct {
		pc    piece
		start int // of buf in want
		buf   []byte
	}
	var parts []part
	for done := 0; done < len(want); {
		pc := locate(e.Segments, e.Size, off+int64(done))
		n := min(int64(len(want)-done), pc.n)
		buf := want[done : done+int(n)]
		done += int(n)
		if pc.seg < 0 {
			clear(buf)
			continue
		}
		parts = append(parts, part{pc, done - int(n), buf})
	}
	errs := make([]error, len(parts))
	read := func(i int) {
		loc := f.c.loc(e, parts[i].pc.seg, parts[i].pc.ch)
		errs[i] = f.c.readRange(ctx, &loc, parts[i].pc.chunkOff, parts[i].buf)
	}
	if len(parts) == 1 {
		read(0)
	} else {
		var wg sync.WaitGroup
		for i := range parts {
			wg.Go(func() { read(i) })
		}
		wg.Wait()
	}
	for i := range parts {
		if errs[i] != nil {
			// What lies before the failed piece was read.
			return parts[i].start, errs[i]
		}
	}
	return len(want), nil
}

// readRange fills p from the chunk at loc at offset off (of its
// plaintext): the whole chunk is read and opened (nothing is returned that
// did not pass its authentication), through a pooled buffer.
func (c *Client) readRange(ctx context.Context, loc *chunkLoc, off int64, p []byte) error {
	mem := chunkBufs.Get().(*[]byte)
	defer chunkBufs.Put(mem)
	plain, err := c.readChunk(ctx, loc, *mem)
	if err != nil {
		return err
	}
	if off+int64(len(p)) > int64(len(plain)) {
		return fmt.Errorf("BUG: read of %d bytes at %d of %s of %d bytes", len(p), off, loc.name(), len(plain))
	}
	copy(p, plain[off:])
	return nil
}

// readChunk reads the whole chunk at loc into buf (at least its stored
// size) and opens it there, trying its holders in order until one sends
// it good; it returns the plaintext, within buf. When a node has not
// answered within Config.Stall (a hung node, whose pooled connection takes
// the request and never answers), the next is asked at the same time, into
// a buffer of its own, and the first to answer good wins.
func (c *Client) readChunk(ctx context.Context, loc *chunkLoc, buf []byte) ([]byte, error) {
	keys, err := c.keyring(ctx)
	if err != nil {
		return nil, err
	}
	nodes := loc.holders
	var errs []error
	for i := 0; i < len(nodes); i++ {
		var plain []byte
		filled := false
		if i+1 < len(nodes) {
			var both bool
			var failed []error
			plain, filled, both, failed = c.hedgedRead(ctx, keys, loc, buf, nodes[i], nodes[i+1])
			errs = append(errs, failed...)
			if both {
				i++
			}
		} else {
			var err error
			if plain, err = c.openChunkFrom(ctx, keys, nodes[i], loc, buf, c.cfg.IOTimeout); err != nil {
				errs = append(errs, err)
			} else {
				filled = true
			}
		}
		if filled {
			c.repairAfter(loc, errs)
			return plain, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return nil, c.chunkErr(loc, errs)
}

// hedgedRead reads the chunk from node a into buf, and also from node b
// (into a pooled buffer of its own, copied to buf if b wins) once a has not
// answered within Config.Stall. It returns the plaintext (within buf) and
// reports whether it was read, whether b was asked, and the errors of the
// nodes that failed. A node that lost to its partner after the hedge is
// left behind (errLagging) and skipped for a while.
func (c *Client) hedgedRead(ctx context.Context, keys *crypt.Keys, loc *chunkLoc, buf []byte, a, b int) (plain []byte, filled, askedB bool, failed []error) {
	started := time.Now()
	actx, cancelA := context.WithCancelCause(ctx)
	defer cancelA(nil)
	type result struct {
		plain []byte
		err   error
	}
	first := make(chan result, 1)
	go func() {
		p, err := c.openChunkFrom(actx, keys, a, loc, buf, c.cfg.IOTimeout)
		first <- result{p, err}
	}()
	t := time.NewTimer(c.cfg.Stall)
	defer t.Stop()
	select {
	case r := <-first:
		if r.err != nil {
			return nil, false, false, []error{r.err}
		}
		return r.plain, true, false, nil
	case <-t.C:
	}
	mem := chunkBufs.Get().(*[]byte)
	bctx, cancelB := context.WithCancel(ctx)
	defer cancelB()
	second := make(chan result, 1)
	go func() {
		p, err := c.openChunkFrom(bctx, keys, b, loc, *mem, c.cfg.IOTimeout)
		second <- result{p, err}
	}()
	for first != nil || second != nil {
		select {
		case r := <-first:
			first = nil
			if r.err != nil {
				failed = append(failed, r.err)
				continue
			}
			plain, filled = r.plain, true
			cancelB()
		case r := <-second:
			second = nil
			if r.err != nil {
				failed = append(failed, r.err)
				continue
			}
			if !filled {
				// a still writes into buf: end it before buf is filled.
				cancelA(fmt.Errorf("%w (no answer to a read within %v)", errLagging, c.cfg.Stall))
				if first != nil {
					<-first
					first = nil
				}
				go c.alive(context.Background(), a, started) // skipped for a while if hung
				plain, filled = buf[:copy(buf, r.plain)], true
			}
		}
	}
	chunkBufs.Put(mem) // both are done with it
	return plain, filled, true, failed
}

func (c *Client) chunkErr(loc *chunkLoc, errs []error) error {
	kind := core.ErrIncomplete
	for _, err := range errs {
		if errors.Is(err, core.ErrNotFound) {
			kind = core.ErrStale // the version was replaced or removed meanwhile
		}
	}
	if len(errs) == 0 {
		errs = append(errs, errors.New("no node holds a copy"))
	}
	return fmt.Errorf("%w: %s: %s: %v", kind, loc.path, loc.name(), errors.Join(errs...))
}

// getChunk streams [off, off+length) of the chunk at loc from node n into
// w, failing when the node is silent for idle.
func (c *Client) getChunk(ctx context.Context, n int, loc *chunkLoc, off, length int64, w io.Writer, idle time.Duration) error {
	req := wire.GetChunkReq{Path: loc.path, Upload: loc.upload, Segment: loc.seg.ID, Chunk: loc.ch, Offset: off, Length: length}
	err := c.call(ctx, n, func(s *stub) error {
		_, err := s.getChunk(req, w, idle)
		return err
	})
	return nodeCorrupt(n, err)
}

// getChunkInto reads the chunk at loc (len(p) bytes: all of it) from node
// n straight into p, failing when the node is silent for idle; a shorter
// answer is an error.
func (c *Client) getChunkInto(ctx context.Context, n int, loc *chunkLoc, p []byte, idle time.Duration) error {
	req := wire.GetChunkReq{Path: loc.path, Upload: loc.upload, Segment: loc.seg.ID, Chunk: loc.ch, Length: int64(len(p))}
	var k int
	err := c.call(ctx, n, func(s *stub) error {
		var err error
		k, err = s.getChunkInto(req, p, idle)
		return err
	})
	if err == nil && k != len(p) {
		// Outside call: a short answer is not a dead connection to retry.
		err = fmt.Errorf("%s: short range: %d of %d bytes: %w", c.nodes[n].name, k, len(p), io.ErrUnexpectedEOF)
	}
	return nodeCorrupt(n, err)
}

// nodeCorrupt marks a node's ErrCorrupt answer with the node, for repair.
func nodeCorrupt(n int, err error) error {
	if errors.Is(err, core.ErrCorrupt) {
		return &corruptError{node: n, err: err}
	}
	return err
}

// fetchInFlight is how many segments Fetch fetches at once (each its four
// chunks in parallel).
const fetchInFlight = 2

// sizer is a destination Fetch can size (an *os.File).
type sizer interface{ Truncate(size int64) error }

// Fetch writes the whole of the version being read into w: each stored
// segment's four chunks in parallel, each from one node and opened (its
// authentication checked), taking the other copy when a node fails or
// sends bad bytes.
// Holes are written as zeros, except into a w that has a Truncate method
// (an *os.File): that one is emptied first and sized at the end, so that
// holes stay holes (a sparse file fetched stays sparse) and nothing it
// held shows through them.
func (f *File) Fetch(ctx context.Context, w io.WriterAt, progress func(done int64)) error {
	c, e := f.c, &f.e
	var done atomic.Int64
	report := func(n int64) {
		if progress != nil {
			progress(done.Add(n))
		}
	}
	sz, sparse := w.(sizer)
	if sparse {
		if err := sz.Truncate(0); err != nil {
			return err
		}
	}
	// The zeros: every run no stored segment covers.
	for off := int64(0); off < e.Size; {
		pc := locate(e.Segments, e.Size, off)
		if pc.seg >= 0 || sparse {
			if pc.seg < 0 {
				report(pc.n) // left a hole: Truncate below makes it
			}
			off += pc.n
			continue
		}
		for end := off + pc.n; off < end; {
			n := min(int64(len(zeros)), end-off)
			if _, err := w.WriteAt(zeros[:n], off); err != nil {
				return err
			}
			report(n)
			off += n
		}
	}
	sem := make(chan struct{}, fetchInFlight)
	errs := make([]error, len(e.Segments))
	var wg sync.WaitGroup
	for i := range e.Segments {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = errors.Join(parallel(core.NumChunks, func(ch int) error {
				return c.fetchChunk(ctx, e, i, ch, w, report)
			})...)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil || !sparse {
		return err
	}
	return sz.Truncate(e.Size)
}

// fetchChunk writes chunk ch of e's segment i into w at its place in the
// file, from the first holder that sends it good (it opens), through a
// pooled buffer.
func (c *Client) fetchChunk(ctx context.Context, e *Entry, i, ch int, w io.WriterAt, report func(int64)) error {
	keys, err := c.keyring(ctx)
	if err != nil {
		return err
	}
	loc := c.loc(e, i, ch)
	cs, _ := core.ChunkBounds(loc.seg.Size, ch)
	at := segmentStart(loc.seg) + cs
	mem := chunkBufs.Get().(*[]byte)
	defer chunkBufs.Put(mem)
	var tried []error
	for k, n := range loc.holders {
		// A node silent for twice Stall while the other copy is left
		// is given up for it (a hung node; a whole chunk is read from
		// its disk first, hence twice); the last gets the I/O time.
		idle := c.cfg.IOTimeout
		if k+1 < len(loc.holders) {
			idle = 2 * c.cfg.Stall
		}
		plain, err := c.openChunkFrom(ctx, keys, n, &loc, *mem, idle)
		if err == nil {
			if _, err := w.WriteAt(plain, at); err != nil {
				return err
			}
			report(int64(len(plain)))
			c.repairAfter(&loc, tried)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		tried = append(tried, err)
	}
	return c.chunkErr(&loc, tried)
}

// Get writes the newest whole version of name into w and returns it. When
// the file is overwritten while it is read, Get starts over on the new
// version (up to three times), so w never holds a mix. A symlink, FIFO or
// socket has no content: Get writes nothing and returns it (IsSpecial).
func (c *Client) Get(ctx context.Context, name string, w io.WriterAt, progress func(done int64)) (Entry, error) {
	for attempt := 0; ; attempt++ {
		e, err := c.stat(ctx, name)
		if err != nil {
			return Entry{}, err
		}
		if e.IsSpecial() {
			return e, nil // no content: the caller makes it as what it is (IsSpecial)
		}
		f, err := c.openEntry(e)
		if err != nil {
			return Entry{}, err
		}
		err = f.Fetch(ctx, w, progress)
		if err == nil || !errors.Is(err, core.ErrStale) || attempt == 2 {
			return f.e, err
		}
	}
}
