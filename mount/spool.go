package mount

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"dfs/core"
)

// spool is the local copy of a file open for writing: an unlinked temporary
// file, so that nothing is left behind on a crash and a large file never
// sits in memory. Its fields are guarded by the owning File's mu.
type spool struct {
	f       *os.File
	size    int64       // logical size; the temp file has this length once loaded
	pending *core.Entry // version still to be fetched before the first access (nil: loaded)
	dirty   bool        // changed since the last upload
	mtime   time.Time   // modification time to store with the next upload
	refs    int         // open handles using the spool
	hash    *contentHash
}

// newSpool makes an empty spool in dir.
func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "dfs-spool-*")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return &spool{f: f, mtime: time.Now(), hash: newContentHash()}, nil
}

// load fetches the pending version, if any. Fetching is put off until the
// spool is used so that open(O_WRONLY|O_TRUNC), which the kernel sends as an
// open followed by a truncate to 0, never downloads the old content.
func (s *spool) load(ctx context.Context, store Store) error {
	if s.pending == nil {
		return nil
	}
	s.hash.off() // the old content is not hashed
	if err := store.Fetch(ctx, *s.pending, s.f, nil); err != nil {
		return err
	}
	s.pending = nil
	return nil
}

// readAt reads from the spool; short only at its end.
func (s *spool) readAt(p []byte, off int64) (int, error) {
	if off >= s.size {
		return 0, nil
	}
	if int64(len(p)) > s.size-off {
		p = p[:s.size-off]
	}
	n, err := s.f.ReadAt(p, off)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

// writeAt writes into the spool; writing past the end leaves a hole.
func (s *spool) writeAt(p []byte, off int64) (int, error) {
	n, err := s.f.WriteAt(p, off)
	if err == nil {
		s.hash.wrote(p, off)
	} else {
		s.hash.off()
	}
	s.size = max(s.size, off+int64(n))
	s.dirty = true
	s.mtime = time.Now()
	return n, err
}

// truncate sets the spool's size.
func (s *spool) truncate(size int64) error {
	if err := s.f.Truncate(size); err != nil {
		return err
	}
	if size != s.size || s.pending != nil {
		s.hash.off()
	}
	s.size = size
	s.dirty = true
	s.mtime = time.Now()
	return nil
}

// md5 returns the content's MD5 when it was hashed while written, else nil.
func (s *spool) md5() []byte { return s.hash.sum(s.size) }

func (s *spool) close() {
	s.hash.close()
	s.f.Close()
}
