package client

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"dfs/core"
)

// Read-ahead. A File read sequentially (the mount serving cat, cp or dd)
// fetches the windows after the one being read before they are asked for,
// so the reader waits for a round trip only at the start. A window is one
// whole chunk of a stored segment (1 MiB in a full segment; it is opened
// whole, see openChunkFrom) or a run of zeros, fetched from
// the chunk's first holder: with all nodes up, the four chunks of a segment
// come from four nodes, so reading aheadBytes ahead keeps every node busy
// with more than one request at once, each on a connection of its own.
//
// A window is never cut short once asked for: a GET_CHUNK stopped midway
// leaves its connection out of step, so it is closed, and the next request
// pays a new connection (a TLS handshake and a login, whose password check
// is made slow on purpose), which costs the node more than sending the rest
// of a chunk. Windows the reader leaves behind, or that a seek or Close
// drops, finish in the background and then give their memory back.
const (
	// windowSize is the largest window: a whole chunk of a full segment.
	windowSize = core.SegmentSize / core.NumChunks
	// windowMem is what a window holds: its chunk as fetched, encrypted
	// (opened in place).
	windowMem = windowSize + core.ChunkOverhead
	// aheadBytes is how far past the reader windows are fetched: two
	// segments, two requests in flight on each node (with one node down,
	// its share goes to the other three). Twice as far measured no faster
	// through the mount and held 14 MiB more at its peak.
	aheadBytes = 8 << 20
	// behindBytes is how far behind the latest read windows are kept: the
	// kernel sends a sequential reader's requests a few at a time and
	// serves them in parallel, so one may come after the next.
	behindBytes = 4 * windowSize
	// maxWindows bounds what one File holds: the windows ahead, those
	// behind and the ones being read.
	maxWindows = int((aheadBytes+behindBytes)/windowSize) + 2
	// seqTrigger is how many sequential reads in a row start read-ahead.
	seqTrigger = 2
	// readAheadIdle is how long windows nobody reads are kept.
	readAheadIdle = 5 * time.Second
	// DefaultReadAheadBudget is Config.ReadAheadBudget's default.
	DefaultReadAheadBudget = 64 << 20
)

// raBudget bounds the memory all of a Client's Files hold for reading
// ahead; the window buffers are chunkBufs'.
type raBudget struct {
	left atomic.Int64
}

func newRABudget(total int64) *raBudget {
	b := &raBudget{}
	b.left.Store(total)
	return b
}

// take returns a window buffer (windowMem bytes), or nil when the budget
// is spent.
func (b *raBudget) take() *[]byte {
	if b.left.Add(-windowMem) < 0 {
		b.left.Add(windowMem)
		return nil
	}
	return chunkBufs.Get().(*[]byte)
}

func (b *raBudget) give(p *[]byte) {
	chunkBufs.Put(p)
	b.left.Add(windowMem)
}

// window is one read-ahead request and the bytes it brought.
type window struct {
	off  int64
	n    int64  // bytes of the file it covers
	buf  []byte // the window's n bytes, once done is closed (within mem)
	mem  *[]byte
	done chan struct{}
	err  error

	// Under readAhead.mu:
	refs    int  // readers copying out of buf
	fetched bool // the request has finished with buf
	dropped bool // no longer in readAhead.segs
}

func (s *window) end() int64 { return s.off + s.n }

// readAhead is a File's read-ahead state.
type readAhead struct {
	budget    *raBudget
	idleAfter time.Duration // readAheadIdle; shorter in tests

	mu     sync.Mutex
	wins   []*window // contiguous, in file order
	next   int64     // where the latest read ended
	seq    int       // sequential reads in a row
	closed bool
	idle   *time.Timer
}

// read serves want at off from read-ahead windows, starting them when the
// reads are sequential. It returns false (with nothing read) when the read
// is not one read-ahead serves; the caller then reads directly.
func (ra *readAhead) read(ctx context.Context, f *File, want []byte, off int64) bool {
	size := f.e.Size
	end := off + int64(len(want))
	ra.mu.Lock()
	if ra.closed || ra.budget == nil || size <= windowSize {
		ra.mu.Unlock()
		return false
	}
	// The kernel sends a sequential reader's requests in order but serves
	// them in parallel, so they may arrive a little out of order (a 4 MiB
	// read is four requests of 1 MiB, the last of them maybe first).
	if d := off - ra.next; d >= -behindBytes && d <= behindBytes {
		ra.seq++
	} else {
		ra.seq = 0
	}
	ra.next = max(ra.next, end)
	covered := len(ra.wins) > 0 && ra.wins[0].off <= off && off < ra.wins[len(ra.wins)-1].end()
	if !covered {
		if len(ra.wins) > 0 && off < ra.wins[0].off && ra.wins[0].off-off <= behindBytes {
			ra.mu.Unlock() // a late request behind the windows: read it directly
			return false
		}
		ra.dropAllLocked()
		if ra.seq < seqTrigger {
			ra.mu.Unlock()
			return false
		}
	}
	// Drop the windows well behind the reader (a read still copying out
	// of one keeps it until done), then fetch ahead.
	i := 0
	for i < len(ra.wins) && ra.wins[i].end() <= off-behindBytes {
		i++
	}
	ra.dropHeadLocked(i)
	ra.topUpLocked(f, off, end)
	var use []*window
	for _, s := range ra.wins {
		if s.off < end && s.end() > off {
			s.refs++
			use = append(use, s)
		}
	}
	ok := len(use) > 0 && use[0].off <= off && use[len(use)-1].end() >= end
	if !ok {
		ra.releaseLocked(use)
		ra.mu.Unlock()
		return false
	}
	if ra.idle == nil {
		ra.idle = time.AfterFunc(ra.idleAfter, ra.dropIdle)
	} else {
		ra.idle.Reset(ra.idleAfter)
	}
	ra.mu.Unlock()

	ok = true
	for _, s := range use {
		select {
		case <-s.done:
		case <-ctx.Done():
			ok = false
		}
		if !ok || s.err != nil {
			ok = false
			break
		}
		lo, hi := max(off, s.off), min(end, s.end())
		copy(want[lo-off:hi-off], s.buf[lo-s.off:hi-s.off])
	}
	// A failed window (every holder failed it) is read again directly,
	// which says why it failed (a stale version, dead nodes) or succeeds
	// if a node is back. The other windows stay: dropping them while in
	// flight would only hold their memory twice.
	ra.mu.Lock()
	ra.releaseLocked(use)
	ra.mu.Unlock()
	return ok
}

// topUpLocked starts windows until [off, end) is covered and they reach
// aheadBytes past end (or the end of the file), within maxWindows and the
// budget.
func (ra *readAhead) topUpLocked(f *File, off, end int64) {
	size := f.e.Size
	for len(ra.wins) < maxWindows {
		start := off
		if n := len(ra.wins); n > 0 {
			start = ra.wins[n-1].end()
		}
		if start >= size || start >= end+aheadBytes {
			return
		}
		mem := ra.budget.take()
		if mem == nil {
			return
		}
		pc := locate(f.e.Segments, size, start)
		n := min(int64(windowSize), pc.n) // a window stays in one chunk, or in zeros
		s := &window{off: start, n: n, mem: mem, done: make(chan struct{})}
		ra.wins = append(ra.wins, s)
		if pc.seg < 0 {
			s.buf = (*mem)[:n]
			clear(s.buf) // zeros: nothing to ask for
			close(s.done)
			s.fetched = true
			continue
		}
		loc := f.c.loc(&f.e, pc.seg, pc.ch)
		go ra.fetch(f, s, &loc, pc.chunkOff)
	}
}

// fetch fills a window: its chunk, read whole into the window's memory
// and opened there. It is not canceled when the window is dropped (see
// the top of this file); the hedge in readChunk and the I/O timeouts
// bound it.
func (ra *readAhead) fetch(f *File, s *window, loc *chunkLoc, chunkOff int64) {
	plain, err := f.c.readChunk(context.Background(), loc, *s.mem)
	if err == nil && chunkOff+s.n > int64(len(plain)) {
		err = fmt.Errorf("BUG: window of %d bytes at %d of %s of %d bytes", s.n, chunkOff, loc.name(), len(plain))
	}
	if err == nil {
		s.buf = plain[chunkOff : chunkOff+s.n]
	}
	s.err = err
	close(s.done)
	ra.mu.Lock()
	s.fetched = true
	ra.recycleLocked(s)
	ra.mu.Unlock()
}

// releaseLocked ends the readers' use of segs.
func (ra *readAhead) releaseLocked(segs []*window) {
	for _, s := range segs {
		s.refs--
		ra.recycleLocked(s)
	}
}

// recycleLocked returns a dropped window's buffer once nobody uses it.
func (ra *readAhead) recycleLocked(s *window) {
	if s.dropped && s.fetched && s.refs == 0 && s.mem != nil {
		ra.budget.give(s.mem)
		s.mem, s.buf = nil, nil
	}
}

// dropHeadLocked drops the first n windows.
func (ra *readAhead) dropHeadLocked(n int) {
	ra.discardLocked(ra.wins[:n])
	ra.wins = append(ra.wins[:0], ra.wins[n:]...)
}

// dropAllLocked drops every window; those in flight finish first.
func (ra *readAhead) dropAllLocked() {
	ra.discardLocked(ra.wins)
	ra.wins = ra.wins[:0]
}

func (ra *readAhead) discardLocked(segs []*window) {
	for _, s := range segs {
		s.dropped = true
		ra.recycleLocked(s)
	}
}

func (ra *readAhead) dropIdle() {
	ra.mu.Lock()
	ra.dropAllLocked()
	ra.mu.Unlock()
}

// close drops the windows and ends read-ahead.
func (ra *readAhead) close() {
	ra.mu.Lock()
	ra.closed = true
	ra.dropAllLocked()
	if ra.idle != nil {
		ra.idle.Stop()
	}
	ra.mu.Unlock()
}
