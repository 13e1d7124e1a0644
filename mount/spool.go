package mount

import (
	"context"
	"dfs/core/client"
	"errors"
	"io"
	"os"
	"time"
)

// spool is the local copy of a file open for writing: an unlinked temporary
// file, so that nothing is left behind on a crash and a large file never
// sits in memory. Its fields are guarded by the owning File's mu.
type spool struct {
	f       *os.File
	size    int64        // logical size; the temp file holds the content up to it once loaded
	cut     int64        // size before the last shrink: past size, what it cut off is kept for readPast
	past    *client.File // the version cut off, when it was never fetched; else the temp file holds it
	length  int64        // the temp file's length (past cut it holds leftovers of earlier shrinks)
	pending *client.File // version still to be fetched before the first access (nil: loaded)
	dirty   bool         // changed since the last put
	mtime   time.Time    // modification time to store with the next put
	refs    int          // open handles using the spool
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
func (s *spool) load(ctx context.Context) error {
	if s.pending == nil {
		return nil
	}
	s.hash.off()                                                   // the old content is not hashed
	if err := s.pending.Fetch(detach(ctx), s.f, nil); err != nil { // not interrupted (see uninterruptible)
		return err
	}
	s.pending = nil
	return nil
}

// discard drops the pending version unfetched, emptying the spool (an
// O_TRUNC open; truncate follows): readPast reads what that cut off from
// the nodes.
func (s *spool) discard() error {
	s.past, s.pending = s.pending, nil
	s.cut, s.size, s.length = s.size, 0, 0
	return s.f.Truncate(0) // the room made for the fetch is no content
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

// readPast answers a read at or past the spool's end with what the last
// shrink cut off there. The kernel reads only below the size it holds,
// and it learns of a truncate after the file system applied it: a read it
// asked for before (read-ahead of another handle, while a writer's
// O_TRUNC empties the file) arrives after the spool shrank. Answered short,
// the kernel would fill the pages with zeros and hand them to the reader
// while it still holds the old size; answered with the old bytes, the
// reader gets what a local disk gives a read just before a truncate, and
// the kernel drops the pages when it applies the new size. Past the old
// size the answer is short, as it was then.
func (s *spool) readPast(ctx context.Context, p []byte, off int64) (int, error) {
	if off >= s.cut {
		return 0, nil
	}
	if int64(len(p)) > s.cut-off {
		p = p[:s.cut-off]
	}
	var n int
	var err error
	if s.past != nil {
		n, err = s.past.ReadAtContext(ctx, p, off) // no read-ahead: past is closed
	} else {
		n, err = s.f.ReadAt(p, off)
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

// writeAt writes into the spool; writing past the end leaves a hole.
func (s *spool) writeAt(p []byte, off int64) (int, error) {
	if err := s.dropPast(off); err != nil {
		return 0, err
	}
	n, err := s.f.WriteAt(p, off)
	if err == nil {
		s.hash.wrote(p, off)
	} else {
		s.hash.off()
	}
	s.size = max(s.size, off+int64(n))
	s.length = max(s.length, s.size)
	s.dirty = true
	s.mtime = time.Now()
	return n, err
}

// dropPast forgets what shrinks cut off when the spool is to grow to end
// with a hole: the hole reads as zeros.
func (s *spool) dropPast(end int64) error {
	if end <= s.size || s.length == s.size {
		return nil
	}
	s.cut, s.past, s.length = 0, nil, s.size
	return s.f.Truncate(s.size)
}

// truncate sets the spool's size. Shrinking keeps the bytes cut off in the
// file, for readPast.
func (s *spool) truncate(size int64) error {
	if err := s.dropPast(size); err != nil {
		return err
	}
	switch {
	case size > s.size:
		if err := s.f.Truncate(size); err != nil {
			return err
		}
		s.length = size
	case size < s.size:
		s.cut, s.past = s.size, nil
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
