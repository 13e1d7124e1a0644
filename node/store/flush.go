package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"
)

// Group commit. A UserDir writes without fsync: a change is applied
// (visible to every client) when its method returns, and registered here.
// The flusher makes what was registered durable in one pass, at most
// FlushDelay after the first registration, or at once when someone asks
// for durability (Store.Sync); those that ask while a pass runs share the
// next one. A pass fsyncs every registered file and directory (in parallel, so
// the filesystem can merge them into few journal commits), then promotes
// each entry's "@meta.new" to "@meta" (see writeMeta).
//
// Written data (chunk files) is registered as open descriptors; metas and
// folders by path, opened by the pass under the user's lock (so no rename
// moves them meanwhile), which keeps few descriptors open between passes.
// A rename of a folder tells moved() to keep the paths up to date.

// DefaultFlushDelay is how long a change may wait for its flush.
const DefaultFlushDelay = 100 * time.Millisecond

// maxBatchFiles starts a pass early when this many descriptors wait.
const maxBatchFiles = 512

// fsyncWorkers is how many fsyncs a pass runs at once.
const fsyncWorkers = 16

type metaKey struct {
	u   *UserDir
	rel string
}

// batch is what one pass makes durable.
type batch struct {
	files   []*os.File           // written data (chunk files): fsync, close
	metas   map[metaKey]uint64   // entries whose @meta.new to make durable and promote: the write (UserDir.pending) the pass saw
	dirs    map[metaKey]struct{} // folders whose names changed: fsync
	waiters []chan error
	first   time.Time // when the first item arrived
}

func newBatch() *batch {
	return &batch{metas: map[metaKey]uint64{}, dirs: map[metaKey]struct{}{}}
}

func (b *batch) size() int { return len(b.files) + len(b.metas) + len(b.dirs) }

// flusher runs the passes of one node.
type flusher struct {
	fsys  *os.File // the data folder, for syncfs; nil: fsync only
	delay time.Duration
	log   *slog.Logger
	kick  chan struct{} // wakes the loop (capacity 1)
	done  chan struct{} // closed by close
	wg    sync.WaitGroup

	mu       sync.Mutex // guards cur, inflight, closed, failed
	cur      *batch     // collecting
	inflight *batch     // being flushed, nil between passes
	closed   bool
	failed   error // the last pass's error, until a pass succeeds
}

func newFlusher(dir string, delay time.Duration, log *slog.Logger) *flusher {
	if delay <= 0 {
		delay = DefaultFlushDelay
	}
	f := &flusher{delay: delay, log: log, kick: make(chan struct{}, 1), done: make(chan struct{}), cur: newBatch()}
	if d, err := os.Open(dir); err == nil {
		f.fsys = d
	}
	f.wg.Add(1)
	go f.loop()
	return f
}

func (f *flusher) wake() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// add runs fn on the collecting batch. Only the first item wakes the loop
// (to start the delay), or one that fills the batch: a wakeup is a context
// switch, and a busy node adds several items per request.
func (f *flusher) add(fn func(b *batch)) {
	f.mu.Lock()
	first := f.cur.size() == 0 && len(f.cur.waiters) == 0
	if first {
		f.cur.first = time.Now()
	}
	fn(f.cur)
	full := len(f.cur.files)+len(f.cur.metas) >= maxBatchFiles
	f.mu.Unlock()
	if first || full {
		f.wake()
	}
}

// addFile registers a written file; the pass fsyncs and closes it.
func (f *flusher) addFile(fd *os.File) {
	f.add(func(b *batch) { b.files = append(b.files, fd) })
}

// addMeta registers rel, whose @meta.new was just written (write seq of
// UserDir.pending).
func (f *flusher) addMeta(u *UserDir, rel string, seq uint64) {
	f.add(func(b *batch) { b.metas[metaKey{u, rel}] = seq })
}

// addDir registers the folder rel, whose names changed.
func (f *flusher) addDir(u *UserDir, rel string) {
	f.add(func(b *batch) { b.dirs[metaKey{u, rel}] = struct{}{} })
}

// moved renames the registered paths under from to under to (a RENAME of
// a folder moved them), in the collecting and the running batch, so that
// the pass finds them. The caller holds u's lock.
func (f *flusher) moved(u *UserDir, from, to string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range []*batch{f.cur, f.inflight} {
		if b == nil {
			continue
		}
		for k, seq := range b.metas {
			if r, ok := underRel(k.rel, from, to); ok && k.u == u {
				delete(b.metas, k)
				b.metas[metaKey{u, r}] = seq
			}
		}
		for k := range b.dirs {
			if r, ok := underRel(k.rel, from, to); ok && k.u == u {
				delete(b.dirs, k)
				b.dirs[metaKey{u, r}] = struct{}{}
			}
		}
	}
}

// underRel returns rel moved from under from to under to.
func underRel(rel, from, to string) (string, bool) {
	switch {
	case rel == from:
		return to, true
	case len(rel) > len(from) && rel[:len(from)] == from && rel[len(from)] == '/':
		return to + rel[len(from):], true
	}
	return "", false
}

// sync waits until everything registered before the call is durable.
func (f *flusher) sync() error {
	ch := make(chan error, 1)
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return errors.New("node is shutting down")
	}
	if f.cur.size() == 0 && len(f.cur.waiters) == 0 {
		f.cur.first = time.Now()
	}
	f.cur.waiters = append(f.cur.waiters, ch)
	f.mu.Unlock()
	f.wake()
	return <-ch
}

// close runs a last pass and stops the loop.
func (f *flusher) close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	f.mu.Unlock()
	close(f.done)
	f.wg.Wait()
	if f.fsys != nil {
		f.fsys.Close()
	}
}

func (f *flusher) loop() {
	defer f.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		f.mu.Lock()
		b := f.cur
		idle := b.size() == 0 && len(b.waiters) == 0
		due := time.Until(b.first.Add(f.delay))
		urgent := len(b.waiters) > 0 || len(b.files)+len(b.metas) >= maxBatchFiles || due <= 0
		if !idle && urgent {
			f.cur, f.inflight = newBatch(), b
		}
		f.mu.Unlock()
		if !idle && urgent {
			f.pass(b)
			continue
		}
		if !idle {
			timer.Reset(due)
		}
		select {
		case <-f.kick:
		case <-timer.C:
		case <-f.done:
			f.mu.Lock()
			b := f.cur
			f.cur, f.inflight = newBatch(), b
			f.mu.Unlock()
			f.pass(b)
			return
		}
		timer.Stop()
	}
}

// pass makes b durable and answers its waiters.
func (f *flusher) pass(b *batch) {
	err := f.flushBatch(b)
	f.mu.Lock()
	f.inflight = nil
	if err != nil {
		f.failed = err
	} else {
		f.failed = nil
	}
	f.mu.Unlock()
	if err != nil {
		f.log.Error("writing to disk failed: changes acknowledged in the last moments may be lost on a power failure", "err", err)
	}
	for _, w := range b.waiters {
		w <- err
	}
}

// flushBatch makes everything in b durable, then promotes its metas. A
// batch of metadata only (small files, namespace changes) takes one
// syncfs(2) of the data folder's filesystem when little else is waiting to
// be written there; otherwise each file and folder is fsynced, in
// parallel (a large upload must not drag the rest of the disk's dirty data
// along).
func (f *flusher) flushBatch(b *batch) error {
	whole := len(b.files) == 0 && f.fsys != nil && quietDisk()
	fds, err := f.open(b, !whole)
	if err == nil && whole {
		if err = syncFS(f.fsys); err == nil {
			f.promote(b)
		}
		return err
	}
	if err == nil && len(fds) == 0 {
		return nil
	}
	errs := make([]error, len(fds))
	var wg sync.WaitGroup
	sem := make(chan struct{}, fsyncWorkers)
	for i, fd := range fds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			errs[i] = fd.Sync()
			<-sem
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != nil && err == nil {
			err = fmt.Errorf("fsync %s: %w", fds[i].Name(), e)
		}
	}
	if err == nil {
		f.promote(b)
	}
	for _, fd := range fds {
		fd.Close()
	}
	return err
}

// open notes, under each user's lock, which write of each entry's
// @meta.new the pass makes durable, and with fds returns descriptors of
// everything in b: its files, metas and folders. A path that is gone
// (removed since) is skipped.
func (f *flusher) open(b *batch, fds bool) ([]*os.File, error) {
	f.mu.Lock()
	var out []*os.File
	if fds {
		out = slices.Clone(b.files)
	}
	users := map[*UserDir]bool{}
	for k := range b.metas {
		users[k.u] = true
	}
	for k := range b.dirs {
		users[k.u] = true
	}
	f.mu.Unlock()
	var first error
	keep := func(fd *os.File, err error) {
		if err == nil {
			out = append(out, fd)
		} else if !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	// The pass makes durable, and promotes, each entry's write current
	// now, which may be newer than the one registered here: its chunk
	// files and folders were registered with the next batch. They join
	// this pass, or the promoted @meta could name chunk files whose data
	// is not on the disk yet.
	newer := false
	for u := range users {
		u.mu.Lock()
		f.mu.Lock()
		for k, seq := range b.metas {
			if k.u != u {
				continue
			}
			b.metas[k] = u.pending[k.rel] // 0: promoted or removed since
			if b.metas[k] > seq {
				newer = true
			}
		}
		f.mu.Unlock()
		u.mu.Unlock()
	}
	if !fds {
		return out, first // one syncfs takes every file there is
	}
	if newer {
		f.mu.Lock()
		out = append(out, f.cur.files...) // this pass closes them
		f.cur.files = nil
		for k := range f.cur.dirs {
			b.dirs[k] = struct{}{}
			users[k.u] = true
		}
		f.mu.Unlock()
	}
	for u := range users {
		u.mu.Lock()
		f.mu.Lock()
		for k, seq := range b.metas {
			if k.u == u && seq != 0 {
				keep(u.root.Open(k.rel + "/" + metaNewName))
			}
		}
		for k := range b.dirs {
			if k.u == u {
				keep(u.root.Open(k.rel))
			}
		}
		f.mu.Unlock()
		u.mu.Unlock()
	}
	return out, first
}

// promote renames each durable @meta.new to @meta, unless a newer write
// replaced it after the pass began (it waits for the next pass).
func (f *flusher) promote(b *batch) {
	users := map[*UserDir]bool{}
	f.mu.Lock()
	for k := range b.metas {
		users[k.u] = true
	}
	f.mu.Unlock()
	for u := range users {
		u.mu.Lock()
		f.mu.Lock() // moved() may have changed the keys meanwhile
		cur := map[string]uint64{}
		for k, seq := range b.metas {
			if k.u == u && seq != 0 {
				cur[k.rel] = seq
			}
		}
		f.mu.Unlock()
		for rel, seq := range cur {
			if u.pending[rel] != seq {
				continue
			}
			delete(u.pending, rel)
			if err := u.root.Rename(rel+"/"+metaNewName, rel+"/"+metaName); err != nil && !errors.Is(err, fs.ErrNotExist) {
				f.log.Warn("promote meta", "user", u.user, "entry", rel, "err", err)
			}
		}
		u.mu.Unlock()
	}
}
