package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// holders returns the nodes to try for chunk ch of e, best first: the node
// whose first chunk it is (so that with all nodes up each node sends one
// chunk), then the other copy; nodes being skipped go last.
func (c *Client) holders(e *Entry, ch int) []int {
	x := e.X()
	out := make([]int, 0, 2)
	for _, n := range e.Copies[ch] {
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

// missingChunks names the chunks of e that have no copy.
func (c *Client) missingChunks(e *Entry) string {
	x := e.X()
	var parts []string
	for ch := 0; ch < core.NumChunks; ch++ {
		if len(e.Copies[ch]) == 0 {
			nodes := core.ChunkNodes(x, ch)
			parts = append(parts, fmt.Sprintf("chunk %d (on %s or %s)", ch+1, c.nodes[nodes[0]].name, c.nodes[nodes[1]].name))
		}
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
// much it read.
func (f *File) readDirect(ctx context.Context, want []byte, off int64) (int, error) {
	size := f.e.Size
	// One piece per chunk the range touches, fetched in parallel (a small
	// file's chunks are on four nodes).
	type piece struct {
		ch       int
		chunkOff int64
		buf      []byte
	}
	var pieces []piece
	for done := 0; done < len(want); {
		pos := off + int64(done)
		ch := core.ChunkOf(size, pos)
		s, e := core.ChunkBounds(size, ch)
		n := min(int64(len(want)-done), e-pos)
		pieces = append(pieces, piece{ch, pos - s, want[done : done+int(n)]})
		done += int(n)
	}
	errs := make([]error, len(pieces))
	if len(pieces) == 1 {
		errs[0] = f.c.readRange(ctx, &f.e, pieces[0].ch, pieces[0].chunkOff, pieces[0].buf)
	} else {
		var wg sync.WaitGroup
		for i, pc := range pieces {
			wg.Go(func() { errs[i] = f.c.readRange(ctx, &f.e, pc.ch, pc.chunkOff, pc.buf) })
		}
		wg.Wait()
	}
	done := 0
	for i, pc := range pieces {
		if errs[i] != nil {
			return done, errs[i]
		}
		done += len(pc.buf)
	}
	return done, nil
}

// readRange fills p from chunk ch at offset off, trying each holder.
func (c *Client) readRange(ctx context.Context, e *Entry, ch int, off int64, p []byte) error {
	return c.readRangeFrom(ctx, e, ch, off, p, c.holders(e, ch))
}

// readRangeFrom fills p from chunk ch at offset off, trying the nodes in
// order until one sends the whole range. When a node has not answered
// within Config.Stall (a hung node, whose pooled connection takes the
// request and never answers), the next is asked at the same time, into a
// buffer of its own, and the first to answer wins.
func (c *Client) readRangeFrom(ctx context.Context, e *Entry, ch int, off int64, p []byte, nodes []int) error {
	var errs []error
	for i := 0; i < len(nodes); i++ {
		var filled bool
		if i+1 < len(nodes) {
			var both bool
			var failed []error
			filled, both, failed = c.hedgedRead(ctx, e, ch, off, p, nodes[i], nodes[i+1])
			errs = append(errs, failed...)
			if both {
				i++
			}
		} else if err := c.getChunkInto(ctx, nodes[i], e, ch, off, p); err != nil {
			errs = append(errs, err)
		} else {
			filled = true
		}
		if filled {
			c.repairAfter(e, ch, errs)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return c.chunkErr(e, ch, errs)
}

// hedgedRead reads the range from node a into p, and also from node b
// (into a buffer of its own, copied to p if b wins) once a has not
// answered within Config.Stall. It reports whether p was filled, whether b
// was asked, and the errors of the nodes that failed. A node that lost to
// its partner after the hedge is left behind (errLagging) and skipped for a
// while.
func (c *Client) hedgedRead(ctx context.Context, e *Entry, ch int, off int64, p []byte, a, b int) (filled, askedB bool, failed []error) {
	started := time.Now()
	actx, cancelA := context.WithCancelCause(ctx)
	defer cancelA(nil)
	first := make(chan error, 1)
	go func() { first <- c.getChunkInto(actx, a, e, ch, off, p) }()
	t := time.NewTimer(c.cfg.Stall)
	defer t.Stop()
	select {
	case err := <-first:
		if err != nil {
			return false, false, []error{err}
		}
		return true, false, nil
	case <-t.C:
	}
	buf := make([]byte, len(p))
	bctx, cancelB := context.WithCancel(ctx)
	defer cancelB()
	second := make(chan error, 1)
	go func() { second <- c.getChunkInto(bctx, b, e, ch, off, buf) }()
	for first != nil || second != nil {
		select {
		case err := <-first:
			first = nil
			if err != nil {
				failed = append(failed, err)
				continue
			}
			filled = true
			cancelB()
		case err := <-second:
			second = nil
			if err != nil {
				failed = append(failed, err)
				continue
			}
			if !filled {
				// a still writes into p: end it before p is filled.
				cancelA(fmt.Errorf("%w (no answer to a read within %v)", errLagging, c.cfg.Stall))
				if first != nil {
					<-first
					first = nil
				}
				go c.alive(context.Background(), a, started) // skipped for a while if hung
				copy(p, buf)
				filled = true
			}
		}
	}
	return filled, true, failed
}

func (c *Client) chunkErr(e *Entry, ch int, errs []error) error {
	kind := core.ErrIncomplete
	for _, err := range errs {
		if errors.Is(err, core.ErrNotFound) {
			kind = core.ErrStale // the version was replaced or removed meanwhile
		}
	}
	return fmt.Errorf("%w: %s: chunk %d: %v", kind, e.Name, ch+1, errors.Join(errs...))
}

// getChunk streams [off, off+length) of chunk ch of e from node n into w,
// failing when the node is silent for idle.
func (c *Client) getChunk(ctx context.Context, n int, e *Entry, ch int, off, length int64, w io.Writer, idle time.Duration) error {
	req := wire.GetChunkReq{Path: e.Name, Version: e.Version, Chunk: ch, Offset: off, Length: length}
	err := c.call(ctx, n, func(s *stub) error {
		_, err := s.getChunk(req, w, idle)
		return err
	})
	return nodeCorrupt(n, err)
}

// getChunkInto reads [off, off+len(p)) of chunk ch of e from node n
// straight into p; a shorter answer is an error.
func (c *Client) getChunkInto(ctx context.Context, n int, e *Entry, ch int, off int64, p []byte) error {
	req := wire.GetChunkReq{Path: e.Name, Version: e.Version, Chunk: ch, Offset: off, Length: int64(len(p))}
	var k int
	err := c.call(ctx, n, func(s *stub) error {
		var err error
		k, err = s.getChunkInto(req, p)
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

// Fetch writes the whole of the version being read into w, fetching the
// four chunks in parallel, each from one node, checking each against its
// SHA-256 and taking the other copy when a node fails or sends bad bytes.
func (f *File) Fetch(ctx context.Context, w io.WriterAt, progress func(done int64)) error {
	c, e := f.c, f.e
	var done atomic.Int64
	errs := parallel(core.NumChunks, func(ch int) error {
		s, end := core.ChunkBounds(e.Size, ch)
		var tried []error
		holders := c.holders(&e, ch)
		for i, n := range holders {
			h := sha256.New()
			cw := &countWriter{w: io.MultiWriter(io.NewOffsetWriter(w, s), h)}
			// A node silent for twice Stall while the other copy is left
			// is given up for it (a hung node; a whole chunk is read from
			// its disk first, hence twice); the last gets the I/O time.
			idle := c.cfg.IOTimeout
			if i+1 < len(holders) {
				idle = 2 * c.cfg.Stall
			}
			err := c.getChunk(ctx, n, &e, ch, 0, end-s, cw, idle)
			if err == nil && cw.n != end-s {
				err = fmt.Errorf("%s: short chunk: %d of %d bytes", c.nodes[n].name, cw.n, end-s)
			}
			if err == nil && hex.EncodeToString(h.Sum(nil)) != e.Chunks[ch].SHA256 {
				err = &corruptError{node: n, err: fmt.Errorf("%s: %w in chunk %d", c.nodes[n].name, core.ErrCorrupt, ch+1)}
			}
			if err == nil {
				if progress != nil {
					progress(done.Add(cw.n))
				}
				c.repairAfter(&e, ch, tried)
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			tried = append(tried, err)
		}
		return c.chunkErr(&e, ch, tried)
	})
	return errors.Join(errs...)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Get writes the newest whole version of name into w and returns it. When
// the file is overwritten while it is read, Get starts over on the new
// version (up to three times), so w never holds a mix.
func (c *Client) Get(ctx context.Context, name string, w io.WriterAt, progress func(done int64)) (Entry, error) {
	for attempt := 0; ; attempt++ {
		e, err := c.stat(ctx, name)
		if err != nil {
			return Entry{}, err
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
