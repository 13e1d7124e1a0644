package client

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Read-ahead. A File read sequentially (the mount serving cat, cp or dd)
// fetches the windows after the one being read before they are asked for,
// so the reader waits for a round trip only at the start. All of a chunk's
// windows go to the same holder (the first of holders): a node reading its
// chunk file in order keeps the kernel's read-ahead on its disk going, and
// taking turns between the two holders measured 20% slower after a cache
// drop (each node then read its file with 2 MiB holes).
const (
	// windowSize is what one read-ahead request fetches: large enough that
	// the request's cost is small beside the data, small enough that a
	// reader that stops early wastes little.
	windowSize = 2 << 20
	// aheadDepth is how many windows are fetched ahead of the reader.
	aheadDepth = 4
	// maxWindows is what one File holds: the one being read and those
	// ahead of it.
	maxWindows = aheadDepth + 1
	// seqTrigger is how many sequential reads in a row start read-ahead.
	seqTrigger = 2
	// readAheadIdle is how long windows nobody reads are kept.
	readAheadIdle = 5 * time.Second
	// DefaultReadAheadBudget is Config.ReadAheadBudget's default.
	DefaultReadAheadBudget = 64 << 20
)

// raBudget bounds the memory all of a Client's Files hold for reading
// ahead, and recycles the window buffers.
type raBudget struct {
	left atomic.Int64
	bufs sync.Pool // *[]byte of windowSize
}

func newRABudget(total int64) *raBudget {
	b := &raBudget{}
	b.left.Store(total)
	b.bufs.New = func() any { p := make([]byte, windowSize); return &p }
	return b
}

// take returns a window buffer, or nil when the budget is spent.
func (b *raBudget) take() *[]byte {
	if b.left.Add(-windowSize) < 0 {
		b.left.Add(windowSize)
		return nil
	}
	return b.bufs.Get().(*[]byte)
}

func (b *raBudget) give(p *[]byte) {
	b.bufs.Put(p)
	b.left.Add(windowSize)
}

// window is one read-ahead request and the bytes it brought.
type window struct {
	off    int64
	buf    []byte // the window's bytes, once done is closed
	mem    *[]byte
	done   chan struct{}
	err    error
	cancel context.CancelFunc

	// Under readAhead.mu:
	refs    int  // readers copying out of buf
	fetched bool // the request has finished with buf
	dropped bool // no longer in readAhead.segs
}

func (s *window) end() int64 { return s.off + int64(len(s.buf)) }

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
	// them in parallel, so they may arrive a little out of order.
	if d := off - ra.next; d >= -windowSize && d <= windowSize {
		ra.seq++
	} else {
		ra.seq = 0
	}
	ra.next = max(ra.next, end)
	covered := len(ra.wins) > 0 && ra.wins[0].off <= off && off < ra.wins[len(ra.wins)-1].end()
	if !covered {
		if len(ra.wins) > 0 && off < ra.wins[0].off && ra.wins[0].off-off <= windowSize {
			ra.mu.Unlock() // a late request behind the windows: read it directly
			return false
		}
		ra.dropAllLocked()
		if ra.seq < seqTrigger {
			ra.mu.Unlock()
			return false
		}
	}
	// Drop what the reader has passed, then fetch ahead.
	i := 0
	for i < len(ra.wins) && ra.wins[i].end() <= off {
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
	ra.mu.Lock()
	ra.releaseLocked(use)
	if !ok {
		// A failed window is read again directly, which says why it failed
		// (a stale version, a dead node) or succeeds on the other copy.
		ra.dropAllLocked()
	}
	ra.mu.Unlock()
	return ok
}

// topUpLocked starts windows until [off, end) is covered and aheadDepth
// windows lie beyond the one holding off, within the budget.
func (ra *readAhead) topUpLocked(f *File, off, end int64) {
	size := f.e.Size
	for len(ra.wins) < maxWindows {
		start := off
		if n := len(ra.wins); n > 0 {
			start = ra.wins[n-1].end()
		}
		if start >= size {
			return
		}
		ahead := 0
		for _, s := range ra.wins {
			if s.off > off {
				ahead++
			}
		}
		if start >= end && ahead >= aheadDepth {
			return
		}
		mem := ra.budget.take()
		if mem == nil {
			return
		}
		pc := locate(f.e.Segments, size, start)
		n := min(int64(windowSize), pc.n) // a window stays in one chunk, or in zeros
		sctx, cancel := context.WithCancel(context.Background())
		s := &window{off: start, buf: (*mem)[:n], mem: mem, done: make(chan struct{}), cancel: cancel}
		ra.wins = append(ra.wins, s)
		if pc.seg < 0 {
			clear(s.buf) // zeros: nothing to ask for
			s.cancel()
			close(s.done)
			s.fetched = true
			continue
		}
		loc := f.c.loc(&f.e, pc.seg, pc.ch)
		go ra.fetch(sctx, f, s, &loc, pc.chunkOff)
	}
}

func (ra *readAhead) fetch(ctx context.Context, f *File, s *window, loc *chunkLoc, chunkOff int64) {
	s.err = f.c.readRangeFrom(ctx, loc, chunkOff, s.buf, loc.holders)
	s.cancel()
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

// dropAllLocked drops every window, stopping those still in flight.
func (ra *readAhead) dropAllLocked() {
	ra.discardLocked(ra.wins)
	ra.wins = ra.wins[:0]
}

func (ra *readAhead) discardLocked(segs []*window) {
	for _, s := range segs {
		s.dropped = true
		s.cancel()
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
