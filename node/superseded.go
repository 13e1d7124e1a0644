package node

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// A commit supersedes the entry's previous version, but a reader may be in
// the middle of it (a mount serving an open file). Its chunk files are
// therefore renamed "@<version>.c<N>.old" and still served for
// supersededGrace; then the sweeper deletes them. A node restart deletes all
// of them at once (readers retry on the new version).
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
	path string // absolute
	at   time.Time
}

// supersede renames the chunk files in rel whose version is not keep.
func (s *Server) supersede(u *userStore, rel, keep string) error {
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
		s.old.mu.Lock()
		s.old.files = append(s.old.files, oldChunk{path: filepath.Join(s.cfg.Dir, usersDir, u.user, filepath.FromSlash(to)), at: now})
		s.old.mu.Unlock()
	}
	return nil
}

// sweepSuperseded deletes superseded chunk files past their grace period;
// at start (all) it deletes every one left from before, walking the folders.
func (s *Server) sweepSuperseded(all bool) {
	if all {
		root := filepath.Join(s.cfg.Dir, usersDir)
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && strings.HasSuffix(p, supersededSuffix) {
				if _, _, ok := parseChunkName(strings.TrimSuffix(d.Name(), supersededSuffix)); ok {
					os.Remove(p)
				}
			}
			return nil
		})
		return
	}
	cutoff := time.Now().Add(-supersededGrace)
	s.old.mu.Lock()
	var due []oldChunk
	for len(s.old.files) > 0 && s.old.files[0].at.Before(cutoff) {
		due = append(due, s.old.files[0])
		s.old.files = s.old.files[1:]
	}
	s.old.mu.Unlock()
	for _, o := range due {
		if err := os.Remove(o.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("remove superseded chunk", "file", o.path, "err", err)
		}
	}
}
