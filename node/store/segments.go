package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"dfs/core"
)

// segmentsDir holds a user's chunk files of stored segments, in 256
// folders by the last two hex digits of the segment id:
// segments/<xx>/<id>.c<N> (docs/format.md, Layout).
const segmentsDir = "segments"

// segFolder is the folder of segment id's chunk files.
func segFolder(id string) string { return segmentsDir + "/" + id[len(id)-2:] }

// segFile is the chunk file of chunk n of segment id.
func segFile(id string, n int) string { return fmt.Sprintf("%s/%s.c%d", segFolder(id), id, n) }

// chunkBase is a chunk file's name without its folder: "<id>.c<N>".
func chunkBase(id string, n int) string { return fmt.Sprintf("%s.c%d", id, n) }

// parseChunkBase splits "<id>.c<N>" into the segment id and chunk index.
func parseChunkBase(name string) (string, int, bool) {
	if len(name) != 24+3 || name[24:26] != ".c" {
		return "", 0, false
	}
	id, c := name[:24], name[26]
	if !core.ValidVersion(id) || c < '0' || c >= '0'+core.NumChunks {
		return "", 0, false
	}
	return id, int(c - '0'), true
}

// validSegFolder reports whether name can be one of the segments folders.
func validSegFolder(name string) bool {
	return len(name) == 2 && strings.Trim(name, "0123456789abcdef") == ""
}

// ensureSegFolder makes the folder of segment id's chunk files if it is
// missing; its name reaches the disk with the next flush.
func (u *UserDir) ensureSegFolder(id string) error {
	d := segFolder(id)
	if ok, err := u.statDir(d); ok || err != nil {
		return err
	}
	if err := u.root.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return u.syncDir(segmentsDir)
}

// moveIn renames the staged chunk file from into the segments folder as
// chunk n of segment id, size bytes of data with SHA-256 sum, unless a
// sound one is there already (keepPresent): then the staged file goes with
// its upload. A staged file that is gone (dropped meanwhile) is not held,
// as if never sent.
func (u *UserDir) moveIn(from, id string, n int, size int64, sum [32]byte) error {
	if u.keepPresent(id, n) {
		return nil
	}
	if err := u.ensureSegFolder(id); err != nil {
		return err
	}
	// Counted in the index before it leaves the staged uploads (which
	// count it until the commit lets it go), so that it is never out of
	// the count; undone when it does not move.
	u.segs.addChunk(id, n, size, sum)
	if err := u.root.Rename(from, segFile(id, n)); err != nil {
		u.segs.dropChunk(id, n)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return u.syncDir(segFolder(id))
}

// writeChunkFile writes data, chunk n of segment id, as its chunk file in
// the segments folder: a chunk that came inline for a file that cannot
// keep it inline, or kept inline by a version whose successor cannot.
func (u *UserDir) writeChunkFile(id string, n int, data []byte) error {
	if u.keepPresent(id, n) {
		return nil
	}
	if err := u.ensureSegFolder(id); err != nil {
		return err
	}
	final := segFile(id, n)
	tmp := final + ".tmp-" + randHex(8)
	f, err := u.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	w := newChunkWriter(f, false, u.bufs, true)
	_, _ = w.Write(data)
	sum, err := w.finish(n, [32]byte{})
	if err == nil {
		u.segs.addChunk(id, n, int64(len(data)), sum)
		if err = u.root.Rename(tmp, final); err != nil {
			u.segs.dropChunk(id, n)
		}
	}
	if err != nil {
		w.close()
		f.Close()
		_ = u.root.Remove(tmp)
		return err
	}
	if err := u.syncFile(f); err != nil {
		return err
	}
	return u.syncDir(segFolder(id))
}

// keepPresent reports whether chunk file n of segment id is in the
// segments folder and sound: its header names chunk n with the size and
// SHA-256 the segment index has for it. Such a file is never replaced:
// every live version listing the segment may be reading it, and a chunk
// file sent again under the same id either is the same (a heal's copy of
// a chunk present meanwhile) or comes from a client that reused an id for
// other bytes, which must not overwrite what another version lists (the
// version that reused it does not hold the chunk). A file whose header is
// bad or disagrees with the index goes to quarantine and may be replaced;
// one that is gone leaves the index. A file that cannot be read now (an
// I/O error) is kept: it may be sound.
func (u *UserDir) keepPresent(id string, n int) bool {
	size, sha, ok := u.segs.chunk(id, n)
	if !ok {
		return false
	}
	rel := segFile(id, n)
	cf, err := u.openChunk(rel)
	if err == nil {
		cf.f.Close()
		if cf.hdr.Index == n && cf.hdr.Size == size && bytes.Equal(cf.hdr.SHA256[:len(sha)], sha[:]) {
			return true
		}
		err = fmt.Errorf("%w: header says chunk %d of %d bytes, not the one indexed", ErrCorrupt, cf.hdr.Index, cf.hdr.Size)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		u.segs.dropChunk(id, n)
		return false
	case errors.Is(err, ErrCorrupt):
		u.log.Warn("a bad chunk file goes to quarantine; a commit brings another copy", "user", u.user, "file", rel, "err", err)
		if _, err := u.quarantineFile(rel, id, n); err != nil {
			u.log.Error("quarantine a bad chunk file", "user", u.user, "file", rel, "err", err)
		}
		return false
	}
	u.log.Error("read a chunk file's header", "user", u.user, "file", rel, "err", err)
	return true
}

// held returns what the node holds of r's segments (wire.Meta.Held): the
// chunk files present that match r's chunks and, for segment 0, the
// chunks r keeps inline (inline, a mask: only matching chunks are kept).
func (u *UserDir) held(r *Record, inline uint8) []uint8 {
	if !isFile(r) {
		return nil
	}
	h := u.segs.held(r)
	if len(h) > 0 {
		h[0] |= inline
	}
	return h
}

// inlineMask is the mask of the chunks r keeps inline.
func inlineMask(r *Record) uint8 {
	var m uint8
	for c := range r.Inline {
		if c >= 0 && c < core.NumChunks {
			m |= 1 << c
		}
	}
	return m
}

// matches reports whether data is the chunk ci describes.
func matches(data []byte, ci ChunkRecord) bool {
	if int64(len(data)) != ci.Size {
		return false
	}
	sum := sha256.Sum256(data)
	return hexEq(sum[:], ci.SHA256)
}

// hexEq reports whether the hex string h spells b (either case).
func hexEq(b []byte, h string) bool {
	return strings.EqualFold(hex.EncodeToString(b), h)
}
