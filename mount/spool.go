package mount

import (
	"context"
	"errors"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"dfs/core"
	"dfs/core/client"
)

// draft is what a spool needs of the next version being built on the
// nodes (client.Draft): segments put one by one, then one commit. It is
// declared here, at the seam, so that tests can count what goes through.
type draft interface {
	// Truncate drops the segments wholly past size; the caller puts a
	// segment it cuts again (the one it returns).
	Truncate(size int64) int64
	// PutSegment stores data as segment k (all zeros: a hole); safe for
	// different k at once.
	PutSegment(ctx context.Context, k int64, data []byte) error
	// ReadSegment reads back a segment put and not committed yet.
	ReadSegment(ctx context.Context, k int64, p []byte, off int64) (int, error)
	// Stores says what the draft stores of segment k: its bytes (0: a
	// hole), put into the draft or kept from the base. The spool keeps no
	// record of its own of what is stored.
	Stores(k int64) (n int64, put bool)
	// Stored is the bytes all the draft's segments store.
	Stored() int64
	// Commit stores the draft as the file's new version of the given size.
	Commit(ctx context.Context, size int64, opt client.PutOptions) (client.PutResult, error)
	// Abort drops what the draft put.
	Abort(ctx context.Context)
	// Name and Rename: the name the draft commits to (the file may be
	// renamed while it is written).
	Name() string
	Rename(name string)
}

// Bounds on a spool's segments: the cache folder holds at most maxLocal
// segments of the file (32 MiB), dirty or stored in the draft and not
// committed yet; a writer that needs one more waits for uploads, or for a
// commit (a checkpoint now) when every local copy is stored. At most
// maxBusy are being put at once.
const (
	maxLocal = 8
	maxBusy  = 3
)

// spool is what a file open for writing holds: the stored version it
// started from (base), a draft of the next version, and the local copies
// of the segments written since they were last put. A segment reads from,
// in order: its local copy (an unlinked file in the cache folder, so that
// nothing is left behind on a crash), else what the draft stores of it
// (draft.Stores): base's segment the draft keeps, or zeros (a hole), or
// (only while a local copy is being fetched) its put in the draft
// (ReadSegment). Only segments that were written are ever local, and a
// local copy is kept until a commit that includes it succeeded: the mount
// never drops the only copy of data that no version holds. The draft's
// staged segments are no version yet (a failed commit leaves them
// nowhere: the spool then starts a fresh draft on base and puts every
// local copy again, redraft). So that the cache folder holds a few
// segments whatever the file's size, a writer over maxLocal commits
// (roomLocked).
//
// Its fields are guarded by the owning File's mu; cond (on that mutex)
// wakes who waits for uploads.
type spool struct {
	dir    string
	cond   *sync.Cond
	size   int64
	base   *client.File // the version the draft keeps the segments of; nil for new content
	draft  draft
	segs   map[int64]*segment // segments with a local copy, or a put of one in flight
	local  int                // segments with a local copy
	busy   int                // PutSegment calls in flight
	failed error              // the first put or commit that failed since the last flush began: no background put until the retry (checkpoint.go)
	low    int64              // the smallest size since base: what a fresh draft on base drops (redraft)
	cut    int64              // size before the last shrink: past size, readPast reads base below it
	past   *client.File       // what readPast reads
	dirty  bool               // changed since the last commit
	mtime  time.Time          // modification time to store with the next commit
	refs   int                // open handles using the spool

	staged        func()        // called when a put of a segment succeeded (the File arms the checkpoint)
	retry         func()        // called when a put failed (the File arms the retry, with backoff)
	commit        func()        // commits now, as a checkpoint (roomLocked)
	backoff       time.Duration // the last retry's delay; 0 after a commit succeeded
	checkpoint    *time.Timer   // commits the staged segments (checkpoint.go); nil while none wait
	checkpointGen int           // counts the timers armed: a stopped one that fired anyway does nothing
	checkpointErr error         // a checkpoint's failure, not reported yet
}

// segment is a segment of a spool written since the last commit.
type segment struct {
	f     *os.File // local copy: kept until a commit holds it
	n     int64    // bytes the local copy holds from the segment's start: the rest of its span reads zeros
	dirty bool     // the local copy changed since it was last handed to PutSegment
	busy  bool     // a PutSegment of it is in flight
}

// newSpool makes a spool in dir holding base (nil: empty) with d as the
// draft of its next version.
func newSpool(dir string, mu *sync.Mutex, base *client.File, d draft) *spool {
	s := &spool{dir: dir, cond: sync.NewCond(mu), segs: map[int64]*segment{}, mtime: time.Now()}
	if base != nil {
		s.size = base.Entry().Size
	}
	s.rebase(base, d)
	return s
}

// rebase makes base, of the spool's size, the version the spool holds,
// with nothing changed: after a commit, with d the draft on it. The local
// copies are dropped: the commit held them all (putLocked commits with
// none dirty and no put in flight).
func (s *spool) rebase(base *client.File, d draft) {
	s.base, s.draft, s.dirty, s.low, s.backoff = base, d, false, s.size, 0
	s.stopCheckpoint()
	for k, seg := range s.segs {
		s.dropLocal(seg)
		delete(s.segs, k)
	}
}

// redraft replaces a draft whose commit failed (a done draft, its staged
// segments part of no version) with d, a fresh draft on base: shrunk as
// the spool was since base, and every local copy dirty again, so that the
// next put and commit send them again. Nothing is lost: every segment the
// old draft stored kept its local copy, and a segment a shrink cut has
// one too (truncate). No put is in flight.
func (s *spool) redraft(d draft) {
	s.draft = d
	d.Truncate(s.low) // the segment it cuts is local (truncate made it so)
	for _, seg := range s.segs {
		if seg.f != nil {
			seg.dirty = true
		}
	}
}

// segBufs holds segment-sized buffers: a segment goes to PutSegment, and
// comes from the nodes, in one piece.
var segBufs = sync.Pool{New: func() any { b := make([]byte, core.SegmentSize); return &b }}

// readAt reads from the spool; short only at its end.
func (s *spool) readAt(ctx context.Context, p []byte, off int64) (int, error) {
	if off >= s.size {
		return 0, nil
	}
	if int64(len(p)) > s.size-off {
		p = p[:s.size-off]
	}
	for _, pc := range segRanges(off, len(p)) {
		if err := s.readSegment(ctx, pc.k, p[pc.lo:pc.hi], pc.off); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// readSegment fills p from segment k at off, zeros where nothing is stored.
func (s *spool) readSegment(ctx context.Context, k int64, p []byte, off int64) error {
	var n int
	var err error
	if seg := s.segs[k]; seg != nil && seg.f != nil {
		if off < seg.n {
			n, err = seg.f.ReadAt(p[:min(int64(len(p)), seg.n-off)], off)
		}
	} else if stored, put := s.draft.Stores(k); put && stored > 0 {
		n, err = s.draft.ReadSegment(ctx, k, p, off)
	} else if stored > 0 {
		n, err = s.base.ReadAtContext(ctx, p, k*core.SegmentSize+off)
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	clear(p[n:])
	return err
}

// readPast answers a read at or past the spool's end with what the last
// shrink cut off there. The kernel reads only below the size it holds,
// and it learns of a truncate after the file system applied it: a read it
// asked for before (read-ahead of another handle, while a writer's
// O_TRUNC empties the file) arrives after the spool shrank. Answered short,
// the kernel would fill the pages with zeros and hand them to the reader
// while it still holds the old size; answered with the old bytes (those of
// the version the spool was stored as last), the reader gets what a local
// disk gives a read just before a truncate, and the kernel drops the pages
// when it applies the new size. Past the old size the answer is short, as
// it was then.
func (s *spool) readPast(ctx context.Context, p []byte, off int64) (int, error) {
	if off >= s.cut || s.past == nil {
		return 0, nil
	}
	if int64(len(p)) > s.cut-off {
		p = p[:s.cut-off]
	}
	n, err := s.past.ReadAtContext(ctx, p, off) // no read-ahead: past is closed
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

// writeAt writes into the spool; writing past the end leaves a hole. It
// may wait for uploads (roomLocked), releasing the File's mu. As on a
// local disk, a write that would cross core.MaxFileSize is cut short at
// it, and one that starts there fails (core.ErrTooLarge: EFBIG).
func (s *spool) writeAt(ctx context.Context, p []byte, off int64, appendMode bool) (int, error) {
	p, err := fitWrite(p, off)
	if err != nil {
		return 0, err
	}
	ps := segRanges(off, len(p))
	if err := s.roomLocked(ps); err != nil {
		return 0, err
	}
	if appendMode && off != s.size { // the end moved while waiting
		off = s.size
		if p, err = fitWrite(p, off); err != nil {
			return 0, err
		}
		ps = segRanges(off, len(p))
	}
	s.dropPast(off)
	for _, pc := range ps {
		seg, err := s.localLocked(ctx, pc.k)
		if err != nil {
			return 0, err
		}
		if _, err := seg.f.WriteAt(p[pc.lo:pc.hi], pc.off); err != nil {
			return 0, err
		}
		seg.n = max(seg.n, pc.off+int64(pc.hi-pc.lo))
		seg.dirty = true
		s.size = max(s.size, off+int64(pc.hi))
		s.dirty = true
		s.mtime = time.Now()
	}
	for _, pc := range ps {
		if pc.off+int64(pc.hi-pc.lo) == core.SegmentSize {
			s.behindLocked(pc.k)
		}
	}
	return len(p), nil
}

// dropPast forgets what shrinks cut off when the spool is to grow to end:
// what lies past its size now reads as zeros.
func (s *spool) dropPast(end int64) {
	if end > s.size {
		s.cut, s.past = 0, nil
	}
}

// localLocked returns segment k with a local copy, fetching its content
// (from the draft or base) when it has none: only the segments written to
// are fetched. A hole starts empty.
func (s *spool) localLocked(ctx context.Context, k int64) (*segment, error) {
	seg := s.segs[k]
	if seg != nil && seg.f != nil {
		return seg, nil
	}
	f, err := os.CreateTemp(s.dir, "dfs-seg-*")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	var n int
	if stored, put := s.draft.Stores(k); stored > 0 {
		buf := segBufs.Get().(*[]byte)
		defer segBufs.Put(buf)
		span := min(core.SegmentSize, s.size-k*core.SegmentSize, stored) // the rest of its span is zeros
		if put {
			n, err = s.draft.ReadSegment(ctx, k, (*buf)[:span], 0)
		} else {
			n, err = s.base.ReadAtContext(ctx, (*buf)[:span], k*core.SegmentSize)
		}
		if errors.Is(err, io.EOF) {
			err = nil
		}
		if err == nil {
			_, err = f.WriteAt((*buf)[:n], 0)
		}
		if err != nil {
			f.Close()
			return nil, err
		}
	}
	if seg == nil {
		seg = &segment{}
		s.segs[k] = seg
	}
	seg.f, seg.n = f, int64(n)
	s.local++
	return seg, nil
}

// dropLocal closes seg's local copy, if any.
func (s *spool) dropLocal(seg *segment) {
	if seg.f != nil {
		seg.f.Close()
		seg.f = nil
		s.local--
	}
}

// truncate sets the spool's size. Segments wholly past it are dropped
// (from the draft too); one it cuts keeps its start, as a local copy to be
// put again. It waits for the uploads in flight (their segments may be the
// ones cut).
func (s *spool) truncate(ctx context.Context, size int64) error {
	s.drainLocked()
	s.dropPast(size)
	s.low = min(s.low, size)
	if size < s.size {
		s.cut, s.past = s.size, s.base
		last := core.NumSegments(size)
		for k, seg := range s.segs {
			if k >= last {
				s.dropLocal(seg)
				delete(s.segs, k)
			}
		}
		k := s.draft.Truncate(size) // the draft's segment that size cuts, to be put again cut
		if c := cutSegment(size); k < 0 && c >= 0 {
			if seg := s.segs[c]; seg != nil && seg.f != nil && seg.n > size-c*core.SegmentSize {
				k = c // a local copy that holds bytes past size
			}
		}
		if k >= 0 {
			seg, err := s.localLocked(ctx, k) // from the draft, which still holds it whole
			if err != nil {
				return err
			}
			if r := size - k*core.SegmentSize; seg.n > r {
				if err := seg.f.Truncate(r); err != nil {
					return err
				}
				seg.n = r
			}
			seg.dirty = true
		}
	}
	if size != s.size {
		s.size = size
		s.dirty = true
		s.mtime = time.Now()
	}
	return nil
}

// blocks returns the bytes the file takes: its stored segments, the local
// copies in place of what the draft stores of theirs (st_blocks tells the
// truth about holes).
func (s *spool) blocks() int64 {
	n := s.draft.Stored()
	for k, seg := range s.segs {
		if seg.f != nil {
			stored, _ := s.draft.Stores(k)
			n += seg.n - stored
		}
	}
	return n
}

// behindLocked starts putting segment k, which a write just filled to its
// end: a sequential writer is not coming back to it, and its upload runs
// while the writer goes on with the next ones.
func (s *spool) behindLocked(k int64) {
	if seg := s.segs[k]; seg != nil && seg.f != nil && seg.dirty && !seg.busy && s.busy < maxBusy && s.failed == nil {
		s.startLocked(k, seg)
	}
}

// roomLocked waits, putting segments, until the cache folder has room for
// the local copies a write of ps needs (maxLocal); when every local copy
// is stored in the draft, it commits (s.commit, a checkpoint now), which
// drops them. When puts or the commit fail the writer goes on without the
// bound until the retry (checkpoint.go): the next write, fsync or close
// reports the failure, as on a local disk.
func (s *spool) roomLocked(ps []segRange) error {
	committed := false
	for {
		need := 0
		for _, pc := range ps {
			if seg := s.segs[pc.k]; seg == nil || seg.f == nil {
				need++
			}
		}
		if need == 0 || s.local+need <= maxLocal || s.failed != nil {
			return nil
		}
		s.startDirtyLocked(func(k int64) bool { return k != ps[0].k && k != ps[len(ps)-1].k })
		if s.busy > 0 {
			s.cond.Wait()
			continue
		}
		if committed || !s.anyStaged() || s.commit == nil {
			return nil // nothing to wait for: all local copies are being written
		}
		committed = true
		s.commit() // with f.mu released while it waits for puts
	}
}

// anyStaged reports whether a local copy is stored in the draft as it is.
func (s *spool) anyStaged() bool {
	for _, seg := range s.segs {
		if seg.f != nil && !seg.dirty && !seg.busy {
			return true
		}
	}
	return false
}

// startDirtyLocked starts putting dirty local segments that ok accepts,
// lowest first, up to maxBusy in flight.
func (s *spool) startDirtyLocked(ok func(k int64) bool) {
	var ks []int64
	for k, seg := range s.segs {
		if seg.f != nil && seg.dirty && !seg.busy && ok(k) {
			ks = append(ks, k)
		}
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	for _, k := range ks {
		if s.busy >= maxBusy || s.failed != nil {
			return
		}
		s.startLocked(k, s.segs[k])
	}
}

// startLocked starts putting segment k in the background. The draft's put
// is the local copy as it is now; a write meanwhile makes it dirty again,
// and it is put again later. The local copy stays until a commit holds
// it (rebase).
func (s *spool) startLocked(k int64, seg *segment) {
	buf := segBufs.Get().(*[]byte)
	n, err := seg.f.ReadAt((*buf)[:seg.n], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		segBufs.Put(buf)
		s.putFailed(err)
		return
	}
	seg.busy, seg.dirty = true, false
	s.busy++
	d := s.draft
	go func() {
		data := (*buf)[:n]
		err := d.PutSegment(context.Background(), k, data) // the client's timeouts end it
		segBufs.Put(buf)
		s.cond.L.Lock()
		defer s.cond.L.Unlock()
		defer s.cond.Broadcast()
		s.busy--
		seg.busy = false
		if err != nil {
			seg.dirty = true
			s.putFailed(err)
			return
		}
		if s.staged != nil {
			s.staged()
		}
	}()
}

// putFailed records the first failure of a put since the last flush
// began, which stops background puts, and has the File retry them later.
func (s *spool) putFailed(err error) {
	if s.failed == nil {
		s.failed = err
		if s.retry != nil {
			s.retry()
		}
	}
}

// drainLocked waits until no put is in flight.
func (s *spool) drainLocked() {
	for s.busy > 0 {
		s.cond.Wait()
	}
}

// flushLocked puts every dirty segment and waits for them all: the draft
// then holds the spool's whole content. Each segment is tried once: the
// first failure is returned (the segment stays local, for the next try).
func (s *spool) flushLocked() error {
	s.failed = nil
	for {
		s.startDirtyLocked(func(int64) bool { return true })
		if s.busy == 0 {
			if s.failed != nil || !s.anyDirty() {
				return s.failed
			}
			continue
		}
		s.cond.Wait()
	}
}

func (s *spool) anyDirty() bool {
	for _, seg := range s.segs {
		if seg.f != nil && seg.dirty {
			return true
		}
	}
	return false
}

// close drops the spool's local copies and what its draft put and nobody
// committed (Abort: nothing to do for a draft that sent nothing). No put
// is in flight (drainLocked).
func (s *spool) close(ctx context.Context) {
	if s.busy > 0 {
		panic("BUG: spool closed with puts in flight")
	}
	s.stopCheckpoint()
	s.draft.Abort(ctx)
	for k, seg := range s.segs {
		s.dropLocal(seg)
		delete(s.segs, k)
	}
}
