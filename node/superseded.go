package node

import (
	"errors"
	"io/fs"
	"sync"
	"time"
)

// A commit supersedes the entry's previous version, but a reader may be in
// the middle of it (a mount serving an open file). Its chunk files are
// therefore renamed "@<version>.c<N>.old" and still served for
// supersededGrace; then the sweeper deletes them, once a flush has made
// what replaced them durable. Deletes set chunks aside the same way. At
// start, the node restores the .old files of an entry's current version (a
// crash lost the change that superseded them) and deletes the others.
const (
	supersededSuffix = ".old"
	supersededGrace  = 2 * time.Minute
)

// oldChunks remembers superseded chunk files and when they were superseded.
type oldChunks struct {
	mu    sync.Mutex // guards files
	files []oldChunk
}

type oldChunk struct {
	u   *userStore
	rel string
	at  time.Time
}

func (o *oldChunks) add(c oldChunk) {
	o.mu.Lock()
	o.files = append(o.files, c)
	o.mu.Unlock()
}

// supersede renames the chunk files in rel whose version is not keep, and
// remembers them for the sweeper when the store belongs to a running node.
func (u *userStore) supersede(rel, keep string) error {
	names, err := u.readNames(rel)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, n := range names {
		v, _, ok := parseChunkName(n)
		if !ok || v == keep {
			continue
		}
		from, to := rel+"/"+n, rel+"/"+n+supersededSuffix
		if err := u.root.Rename(from, to); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if u.old != nil {
			u.old.add(oldChunk{u: u, rel: to, at: now})
		}
	}
	return nil
}

// sweepSuperseded deletes superseded chunk files set aside before cutoff.
// (A file whose folder was renamed meanwhile is not found; the next start
// deletes it.)
func (s *Server) sweepSuperseded(cutoff time.Time) {
	s.old.mu.Lock()
	var due []oldChunk
	for len(s.old.files) > 0 && s.old.files[0].at.Before(cutoff) {
		due = append(due, s.old.files[0])
		s.old.files = s.old.files[1:]
	}
	s.old.mu.Unlock()
	if len(due) == 0 {
		return
	}
	// What replaced them must be on disk before they go.
	if err := s.flusher.sync(); err != nil {
		s.old.mu.Lock()
		s.old.files = append(due, s.old.files...)
		s.old.mu.Unlock()
		return
	}
	for _, o := range due {
		if err := o.u.root.Remove(o.rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("remove superseded chunk", "user", o.u.user, "file", o.rel, "err", err)
		}
	}
}
