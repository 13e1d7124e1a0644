package store

import (
	"sync"
	"sync/atomic"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// What a user's uploads hold on a node until their commit: the chunks they
// brought, small ones in memory (inline, see inline.go) and the others in
// the user's staging folder. Each user's are counted in one place, their
// uploads, against a per-user Budget: a user at a limit is refused with
// core.ErrBusy while every other user's puts go on. The node-wide memory
// for inline chunks (nodeMemory) only decides whether a small chunk waits
// in memory or, like a large one, on disk; it never refuses one.
//
// An upload's chunks go with its commit (into the entry), with a commit
// refused as stale, when the user's last connection to the node closes
// (DropUploads: a client commits on any of its connections to the node,
// not necessarily the one that brought the chunks), and once no chunk of it
// has arrived for Budget.Idle (DropIdle). A user at a limit first loses
// their own uploads idle for reclaimAfter, oldest first: what a failed put
// left behind must not block the user's next puts. A node restart drops
// them all (recover.go).

// Budget bounds what one user's uploads waiting for their commit may hold
// on a node. Zero fields take the defaults.
type Budget struct {
	Uploads int           // uploads at once; default DefaultUploads
	Bytes   int64         // bytes of their chunks, in memory and on disk; default DefaultBytes
	Memory  int64         // bytes of small chunks kept in memory; default DefaultMemory, beyond it they are written to staging
	Idle    time.Duration // an upload no chunk arrived for in this long is dropped; default DefaultIdle
}

// Budget defaults (docs/security.md, Limits).
const (
	// DefaultUploads is far more puts than a mount, dfc and heal have in
	// flight at once (a put is, from its first chunk to its commit: a
	// round trip for a small file), so that only abandoned uploads fill
	// it.
	DefaultUploads = 256
	// DefaultMemory is an eighth of nodeMemory: DefaultUploads uploads of
	// four full inline chunks (8 MiB and their encryption's overhead).
	DefaultMemory = DefaultUploads * core.NumChunks * wire.MaxInlineChunk
	// DefaultIdle is the node's default connection idle timeout: an
	// upload outlives the wait for its commit as long as the connections
	// of the client that sent it do.
	DefaultIdle = 10 * time.Minute
	// DefaultBytes lets one user's puts in flight on a node hold 128
	// GiB: a file of core.MaxFileSize (a node gets two of every
	// segment's four chunks, and a put commits once all are sent), or
	// several smaller ones at once. A chunk larger than Bytes is refused
	// as too large for the node.
	DefaultBytes = core.MaxFileSize / 2
)

// nodeMemory bounds the inline chunks of all users kept in a node's memory;
// beyond it they are written to staging.
const nodeMemory = 8 * DefaultMemory

// reclaimAfter is how long an upload must have been idle before a user at
// a limit loses it to the next one: a put waits for its slowest node before
// it commits, which takes longer than that only when one node is far
// slower than another.
const reclaimAfter = time.Minute

// withDefaults fills b's zero fields.
func (b Budget) withDefaults() Budget {
	if b.Uploads <= 0 {
		b.Uploads = DefaultUploads
	}
	if b.Bytes <= 0 {
		b.Bytes = DefaultBytes
	}
	if b.Memory <= 0 {
		b.Memory = DefaultMemory
	}
	if b.Idle <= 0 {
		b.Idle = DefaultIdle
	}
	return b
}

// reclaimAge is how long an upload must have been idle to be dropped for
// the user's next one.
func (b Budget) reclaimAge() time.Duration { return min(reclaimAfter, b.Idle) }

// Staged is what uploads waiting for their commit hold, against the
// budget. (What a user holds on the disk, against the quota, is Usage.)
type Staged struct {
	Uploads int
	Bytes   int64 // of their chunks, in memory and on disk
	Memory  int64 // of their chunks in memory (part of Bytes)
}

func (a Staged) add(b Staged) Staged {
	return Staged{Uploads: a.Uploads + b.Uploads, Bytes: a.Bytes + b.Bytes, Memory: a.Memory + b.Memory}
}

// memPool is the node's memory for inline chunks, shared by all users.
type memPool struct {
	used atomic.Int64
	max  int64
}

func (p *memPool) take(n int64) bool {
	for {
		u := p.used.Load()
		if u+n > p.max {
			return false
		}
		if p.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (p *memPool) give(n int64) { p.used.Add(-n) }

// uploads is one user's uploads waiting for their commit on this node and
// what they hold.
type uploads struct {
	u      *UserDir
	budget *Budget
	mem    *memPool

	// mu guards the fields below and orders every rename and removal of
	// the user's staged chunk files (their names are the upload's), so
	// that the count and the staging folder agree.
	mu  sync.Mutex
	m   map[string]*upload
	use Staged

	// files is what the staged chunk files take on the disk
	// (chunkFileSize of each part in a file), changed under mu with the
	// folder: the staged part of the user's quota use (usage.go), which
	// reads it without mu.
	files atomic.Int64
}

// upload is the chunks of one upload that arrived.
type upload struct {
	id         string
	parts      map[partKey]part
	receiving  int               // chunks being received into temporary files
	arriving   map[partKey]int64 // of those, the room (chunkFileSize) each part's receipts take
	committing bool              // a commit checked its chunks and will take them (hold)
	at         time.Time         // when a chunk last started or arrived
}

// busy reports whether the upload is in use: no idle drop or reclaim may
// take its chunks then.
func (up *upload) busy() bool { return up.receiving > 0 || up.committing }

// partKey names a chunk of an upload: chunk n of segment seg (an id).
type partKey struct {
	seg string
	n   int
}

// part is a chunk of an upload: in memory (data not nil), in a staged file
// (file, whose data has SHA-256 sum), or not here.
type part struct {
	data []byte
	file bool
	size int64
	sum  [32]byte
}

func (p part) here() bool { return p.file || p.data != nil }

func newUploads(u *UserDir, b *Budget, mem *memPool) *uploads {
	return &uploads{u: u, budget: b, mem: mem, m: map[string]*upload{}}
}

// admitLocked makes room for size more bytes of upload id (a new upload if
// none), dropping the user's idle uploads if need be, and returns the
// upload, made if new; the caller then counts the bytes. A chunk larger
// than the whole budget is core.ErrNoSpace, a user at a limit core.ErrBusy.
func (s *uploads) admitLocked(id string, size int64, now time.Time) (*upload, error) {
	b := s.budget
	if size > b.Bytes {
		return nil, refuse(core.ErrNoSpace, "a chunk of %s is more than the %s this node lets one user's uploads hold; the file is too large for this node",
			core.FormatBytes(size), core.FormatBytes(b.Bytes))
	}
	up := s.m[id]
	for up == nil && len(s.m) >= b.Uploads {
		if !s.reclaimLocked(now, id) {
			return nil, refuse(core.ErrBusy, "node busy: %d of your uploads are waiting for their commit here, the most one user may have; retry once they finish",
				len(s.m))
		}
	}
	for s.use.Bytes+size > b.Bytes {
		if !s.reclaimLocked(now, id) {
			return nil, refuse(core.ErrBusy, "node busy: your uploads waiting for their commit here hold %s, and %s more would pass the %s one user may have; retry once they finish (a file over twice that never fits: ask the node's operator)",
				core.FormatBytes(s.use.Bytes), core.FormatBytes(size), core.FormatBytes(b.Bytes))
		}
	}
	if up == nil {
		up = &upload{id: id, parts: map[partKey]part{}}
		s.m[id] = up
		s.use.Uploads++
	}
	up.at = now
	return up, nil
}

// reclaimLocked drops the user's upload idle the longest but upload
// except, if it has been for Budget.reclaimAge, and reports whether it
// dropped one.
func (s *uploads) reclaimLocked(now time.Time, except string) bool {
	var oldest string
	var at time.Time
	for id, up := range s.m {
		if id != except && !up.busy() && (oldest == "" || up.at.Before(at)) {
			oldest, at = id, up.at
		}
	}
	if oldest == "" || now.Sub(at) < s.budget.reclaimAge() {
		return false
	}
	s.dropLocked(oldest)
	return true
}

// begin counts a chunk of size bytes of upload id about to be received
// into a temporary file; end or keepFile must follow.
func (s *uploads) begin(id string, k partKey, size int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	up, err := s.admitLocked(id, size, time.Now())
	if err != nil {
		return err
	}
	up.receiving++
	if up.arriving == nil {
		up.arriving = map[partKey]int64{}
	}
	up.arriving[k] += chunkFileSize(size)
	s.use.Bytes += size
	return nil
}

// arrived uncounts a receipt of part k that ended.
func (up *upload) arrived(k partKey, size int64) {
	up.receiving--
	if up.arriving[k] -= chunkFileSize(size); up.arriving[k] <= 0 {
		delete(up.arriving, k)
	}
}

// end uncounts a chunk begun and not kept.
func (s *uploads) end(id string, k partKey, size int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	up := s.m[id]
	up.arrived(k, size)
	s.use.Bytes -= size
	s.forgetIfEmptyLocked(id, up)
}

// keepFile gives a received chunk its staged name with rename and counts
// it as chunk k of upload id, replacing one that came before.
func (s *uploads) keepFile(id string, k partKey, size int64, sum [32]byte, rename func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	up := s.m[id]
	up.arrived(k, size)
	if err := rename(); err != nil {
		s.use.Bytes -= size
		s.forgetIfEmptyLocked(id, up)
		return err
	}
	s.files.Add(chunkFileSize(size)) // before the release: the quota never counts the chunk short
	s.releaseLocked(up, k, false)    // the rename replaced its file
	up.parts[k] = part{file: true, size: size, sum: sum}
	up.at = time.Now()
	return nil
}

// keepMemory keeps chunk k of upload id in memory; false when the user's
// or the node's memory for inline chunks is full (the caller then stages
// it on disk).
func (s *uploads) keepMemory(id string, k partKey, data []byte) (bool, error) {
	size := int64(len(data))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.use.Memory+size > s.budget.Memory || !s.mem.take(size) {
		return false, nil
	}
	up, err := s.admitLocked(id, size, time.Now())
	if err != nil {
		s.mem.give(size)
		return false, err
	}
	s.releaseLocked(up, k, true)
	if data == nil {
		data = []byte{} // an empty chunk is here too
	}
	up.parts[k] = part{data: data, size: size}
	s.use.Bytes += size
	s.use.Memory += size
	return true, nil
}

// releaseLocked uncounts chunk k of up, removing its staged file when
// remove is set.
func (s *uploads) releaseLocked(up *upload, k partKey, remove bool) {
	p := up.parts[k]
	if !p.here() {
		return
	}
	if p.data != nil {
		s.mem.give(p.size)
		s.use.Memory -= p.size
	}
	s.use.Bytes -= p.size
	delete(up.parts, k)
	if p.file && remove {
		// The id came from the connection that staged it; a chunk
		// moved meanwhile (the user's own race) is simply gone.
		_ = s.u.root.Remove(stagedName(up.id, k.seg, k.n))
	}
	if p.file {
		s.files.Add(-chunkFileSize(p.size)) // after the file went: never counted short
	}
}

func (s *uploads) forgetIfEmptyLocked(id string, up *upload) {
	if up.busy() {
		return
	}
	if len(up.parts) > 0 {
		return
	}
	delete(s.m, id)
	s.use.Uploads--
}

// stagedSize is what the part k of upload id already takes under the
// quota (its staged file or its bytes in memory, and receipts of it still
// under way), 0 if none: a chunk sent again (a client retrying on a fresh
// connection while the first try may still be arriving) replaces it.
func (s *uploads) stagedSize(id string, k partKey) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	up := s.m[id]
	if up == nil {
		return 0
	}
	n := up.arriving[k]
	switch p := up.parts[k]; {
	case p.file:
		n += chunkFileSize(p.size)
	case p.data != nil:
		n += int64(len(p.data))
	}
	return n
}

// has reports whether chunk k of upload id is here.
func (s *uploads) has(id string, k partKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	up := s.m[id]
	return up != nil && up.parts[k].here()
}

// hold checks that the chunks need of upload id are here and keeps them
// from idle drops and reclaims (which take only the uploads' lock, not the
// user's) until unhold, so that the commit that checked them takes them
// all. It returns the position in need of the first chunk missing, or -1.
func (s *uploads) hold(id string, need []partKey) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	up := s.m[id]
	for i, k := range need {
		if up == nil || !up.parts[k].here() {
			return i
		}
	}
	if up != nil {
		up.committing = true
	}
	return -1
}

// unhold ends a hold: what the commit did not take is the upload's again.
func (s *uploads) unhold(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if up := s.m[id]; up != nil {
		up.committing = false
		s.forgetIfEmptyLocked(id, up)
	}
}

// take hands the chunks of upload id to its commit: move gets each staged
// file (its staged name, size and SHA-256) to rename into place if the
// commit wants it, and the chunks in memory are returned. Every chunk of
// the upload goes: those move leaves (not the commit's) are removed. After
// an error of move the upload keeps the chunks not handed yet.
func (s *uploads) take(id string, move func(k partKey, staged string, size int64, sum [32]byte) error) (map[partKey][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	up := s.m[id]
	if up == nil {
		return nil, nil
	}
	for k, p := range up.parts {
		if !p.file {
			continue
		}
		if err := move(k, stagedName(id, k.seg, k.n), p.size, p.sum); err != nil {
			return nil, err
		}
		s.releaseLocked(up, k, true) // gone if moved
	}
	var inline map[partKey][]byte
	for k, p := range up.parts {
		if p.data == nil {
			continue
		}
		if inline == nil {
			inline = map[partKey][]byte{}
		}
		inline[k] = p.data
		s.releaseLocked(up, k, false)
	}
	s.forgetIfEmptyLocked(id, up)
	return inline, nil
}

// drop removes the chunks of upload id.
func (s *uploads) drop(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[id] != nil {
		s.dropLocked(id)
	}
}

func (s *uploads) dropLocked(id string) {
	up := s.m[id]
	for k := range up.parts {
		s.releaseLocked(up, k, true)
	}
	s.forgetIfEmptyLocked(id, up)
}

// dropWhere removes the chunks of every upload for which drop says so and
// returns how many uploads it dropped. Chunks being received stay (their
// upload with them).
func (s *uploads) dropWhere(drop func(up *upload) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, up := range s.m {
		if drop(up) {
			s.dropLocked(id)
			n++
		}
	}
	return n
}

// usage returns what the user's uploads hold.
func (s *uploads) usage() Staged {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.use
}

// Staged returns what the user's uploads waiting for their commit hold on
// this node.
func (u *UserDir) Staged() Staged { return u.up.usage() }

// DropUploads removes every upload of the user waiting for its commit: the
// user's last connection to the node closed, and with it every client that
// could commit them.
func (u *UserDir) DropUploads() int { return u.up.dropWhere(func(*upload) bool { return true }) }

// DropIdle removes the uploads no chunk has arrived for within the
// budget's Idle, as of now, and returns how many.
func (st *Store) DropIdle(now time.Time) int {
	cutoff := now.Add(-st.budget.Idle)
	n := 0
	for _, u := range st.openUsers() {
		n += u.up.dropWhere(func(up *upload) bool { return !up.busy() && up.at.Before(cutoff) })
	}
	return n
}

// Staged returns what the uploads of every user waiting for their commit
// hold on this node.
func (st *Store) Staged() Staged {
	var sum Staged
	for _, u := range st.openUsers() {
		sum = sum.add(u.up.usage())
	}
	return sum
}

// Budget returns the budget each user's uploads have, defaults filled in.
func (st *Store) Budget() Budget { return st.budget }
