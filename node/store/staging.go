package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// stagedName is the staged file of chunk n of segment seg brought by
// upload: staging/<upload>.<seg>.c<N>.
func stagedName(upload, seg string, n int) string {
	return fmt.Sprintf("%s/%s.%s.c%d", stagingDir, upload, seg, n)
}

// StagedChunk is a chunk upload being written into the user's staging
// folder (docs/format.md, Staging) until Keep gives it its staged name.
type StagedChunk struct {
	u          *UserDir
	upload     string
	key        partKey
	size       int64 // counted against the user's budget from Stage on
	sum        [32]byte
	tmp, final string
	f          *os.File
	w          *chunkWriter
	kept       bool
}

// Stage starts writing chunk n of segment seg (an id) of upload, size
// bytes, into a new temporary
// file in the user's staging folder. The chunk counts against the user's
// budget at once: a user whose uploads are at a limit gets core.ErrBusy,
// and a chunk larger than the whole budget core.ErrNoSpace (as *Refusal).
// With hash false the data is not hashed: Finish then takes the SHA-256
// given. Close it after use.
func (u *UserDir) Stage(upload, seg string, n int, size int64, hash bool) (*StagedChunk, error) {
	if err := u.up.begin(upload, partKey{seg, n}, size); err != nil {
		return nil, err
	}
	final := stagedName(upload, seg, n)
	tmp := final + ".tmp-" + randHex(8)
	f, direct, err := openChunkForWrite(func(flag int) (*os.File, error) { return u.root.OpenFile(tmp, flag, 0o600) })
	if err != nil {
		u.up.end(upload, partKey{seg, n}, size)
		return nil, err
	}
	return &StagedChunk{u: u, upload: upload, key: partKey{seg, n}, size: size, tmp: tmp, final: final, f: f, w: newChunkWriter(f, direct, u.bufs, hash)}, nil
}

// Write takes the next data. It never fails: the first write error is kept
// for Err and later data is dropped, so that the caller can drain its
// stream and still reply.
func (s *StagedChunk) Write(p []byte) (int, error) { return s.w.Write(p) }

// Err returns the first write error.
func (s *StagedChunk) Err() error { return s.w.err }

// Finish writes the last block and the header and returns the data's
// SHA-256: the one computed, or given when Stage was told not to hash.
func (s *StagedChunk) Finish(given [32]byte) ([32]byte, error) {
	sum, err := s.w.finish(s.key.n, given)
	s.sum = sum
	return sum, err
}

// Keep gives the finished chunk its staged name, where a commit finds it.
// The data reaches the disk with the next flush, before any commit that
// names it can be reported durable. (The staging folder's names need no
// flush: a commit moves the file into its entry's folder.)
func (s *StagedChunk) Keep() error {
	err := s.u.up.keepFile(s.upload, s.key, s.size, s.sum, func() error { return s.u.root.Rename(s.tmp, s.final) })
	s.kept = true // counted as kept, or uncounted on failure
	if err != nil {
		s.f.Close()
		_ = s.u.root.Remove(s.tmp)
		return err
	}
	return s.u.syncFile(s.f)
}

// Close gives the write buffer back and, unless Keep was called, removes
// the temporary file and uncounts the chunk.
func (s *StagedChunk) Close() {
	s.w.close()
	if !s.kept {
		s.f.Close()
		_ = s.u.root.Remove(s.tmp)
		s.u.up.end(s.upload, s.key, s.size)
	}
}

// openChunk opens a chunk file without following symlinks and checks its
// header.
func (u *UserDir) openChunk(rel string) (*ChunkFile, error) {
	ok, err := u.statFile(rel)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fs.ErrNotExist
	}
	f, err := u.root.OpenFile(rel, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	hdr, err := readChunkHeader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &ChunkFile{f: f, hdr: hdr}, nil
}

// Chunk is a chunk found for reading: an open chunk file, which the caller
// closes, or, with File nil, the Data of a chunk kept inline.
type Chunk struct {
	File *ChunkFile
	Data []byte
}

// OpenChunk finds chunk n of the stored segment seg (an id). With upload
// set, it is the chunk file that upload staged and has not committed yet.
// Otherwise it is the segment's chunk file, else the chunk kept inline by
// the entry at the cleaned path p ("" for none) when its segment 0 is seg,
// else the inline chunk set aside by a version replaced or removed since
// (gc.go). It is fs.ErrNotExist where there is none, ErrCorrupt where the
// chunk file's header or length is bad.
func (u *UserDir) OpenChunk(p, upload, seg string, n int) (Chunk, error) {
	if upload != "" {
		cf, err := u.openChunk(stagedName(upload, seg, n))
		return Chunk{File: cf}, err
	}
	cf, err := u.openChunk(segFile(seg, n))
	if !errors.Is(err, fs.ErrNotExist) {
		return Chunk{File: cf}, err
	}
	if p != "" {
		steps, err := u.walk(p)
		if err != nil {
			return Chunk{}, err
		}
		last := &steps[len(steps)-1]
		if last.exists && last.inline&(1<<n) != 0 && isFile(last.meta) && last.meta.Segments[0].ID == seg {
			full, err := u.full(last)
			if err != nil {
				return Chunk{}, err
			}
			if data, ok := full.Inline[n]; ok && len(full.Segments) > 0 && full.Segments[0].ID == seg {
				return Chunk{Data: data}, nil
			}
		}
	}
	if u.old != nil {
		if data, ok := u.old.inlineChunk(oldKey(u.user, seg, n)); ok {
			return Chunk{Data: data}, nil
		}
	}
	return Chunk{}, fs.ErrNotExist
}

// Live reports whether a live file or folder is at the cleaned path p.
func (u *UserDir) Live(p string) (bool, error) {
	steps, err := u.walk(p)
	if err != nil {
		return false, err
	}
	return live(steps[len(steps)-1].meta), nil
}
