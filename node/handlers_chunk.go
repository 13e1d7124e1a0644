package node

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"dfs/core/wire"
)

// validUpload reports whether id is an upload id: 32 lowercase hex digits.
func validUpload(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

func stagedName(upload string, n int) string {
	return fmt.Sprintf("%s/%s.c%d", stagingDir, upload, n)
}

// deadlineWriter pushes the connection's deadline forward while a data
// stream arrives, at most once a second.
type deadlineWriter struct {
	w    io.Writer
	c    *session
	last time.Time
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if now := time.Now(); now.Sub(d.last) > time.Second {
		d.last = now
		_ = d.c.nc.SetDeadline(now.Add(d.c.s.cfg.IOTimeout))
	}
	return d.w.Write(p)
}

// putChunk stores an uploaded chunk in staging after checking its size and
// SHA-256. A broken stream closes the connection; a full disk or a mismatch
// is replied to once the stream is drained.
func (c *session) putChunk(body []byte) error {
	var req wire.PutChunkReq
	if err := decode(body, &req); err != nil {
		return err
	}
	if !validUpload(req.Upload) || req.Chunk < 0 || req.Chunk > 3 || req.Size < 0 || req.Size > MaxChunkSize {
		return &reqError{status: wire.StatusBadRequest, msg: "invalid upload id, chunk or size", fatal: true}
	}
	if req.SHA256 != "" {
		if want, err := hex.DecodeString(req.SHA256); err != nil || len(want) != sha256.Size {
			return &reqError{status: wire.StatusBadRequest, msg: "invalid sha256", fatal: true}
		}
	}
	if req.Trailer && (req.Inline || req.SHA256 != "") {
		return &reqError{status: wire.StatusBadRequest, msg: "a trailer is for a chunk file without a hash given", fatal: true}
	}
	if req.Path != "" {
		if _, err := cleanPath(req.Path, false); err != nil {
			return &reqError{status: wire.StatusBadRequest, msg: err.Error(), fatal: true}
		}
	}
	if req.Inline {
		if req.Size > wire.MaxInlineChunk {
			return &reqError{status: wire.StatusBadRequest, msg: "inline chunk too large", fatal: true}
		}
		return c.putInline(req)
	}
	final := stagedName(req.Upload, req.Chunk)
	tmp := final + ".tmp-" + randHex(8)
	f, direct, err := openChunkForWrite(func(flag int) (*os.File, error) { return c.us.root.OpenFile(tmp, flag, 0o600) })
	if err != nil {
		// Drain the stream so the reply lands where the client expects it.
		if _, rerr := c.wc.RecvStream(&deadlineWriter{w: io.Discard, c: c}, req.Size); rerr != nil {
			return &connError{rerr}
		}
		if req.Trailer {
			if _, terr := c.readTrailer(); terr != nil {
				return terr
			}
		}
		return err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			_ = c.us.root.Remove(tmp)
		}
	}()
	cw := newChunkWriter(f, direct, c.s.outBufs, !req.Trailer)
	defer cw.close()
	n, err := c.wc.RecvStream(&deadlineWriter{w: cw, c: c}, req.Size)
	if err != nil {
		c.s.log.Info("upload stream broken", "user", c.user, "remote", c.remote, "err", err)
		return &connError{err}
	}
	var given [32]byte
	if req.Trailer {
		if given, err = c.readTrailer(); err != nil {
			return err
		}
	}
	if cw.err != nil {
		return cw.err
	}
	if n != req.Size {
		return replyErr(wire.StatusCorrupt, "received %d bytes, expected %d", n, req.Size)
	}
	sum, err := cw.finish(req.Chunk, given)
	if err != nil {
		return err
	}
	got := hex.EncodeToString(sum[:])
	if req.SHA256 != "" && !strings.EqualFold(got, req.SHA256) {
		return replyErr(wire.StatusCorrupt, "SHA-256 of the received chunk does not match")
	}
	if err := c.us.root.Rename(tmp, final); err != nil {
		return err
	}
	// The data reaches the disk with the next flush, before any commit
	// that names it can be reported durable. (The staging folder's names
	// need no flush: a commit moves the file into its entry's folder.)
	ok = true
	if err := c.us.syncFile(f); err != nil {
		return err
	}
	return c.replyPut(req, got)
}

// readTrailer reads the PutChunkTrailer that follows a Trailer upload's
// data. Anything else there leaves the stream in an unknown state.
func (c *session) readTrailer() ([32]byte, error) {
	var sum [32]byte
	h, body, err := c.wc.ReadRequest()
	if err != nil {
		return sum, &connError{err}
	}
	var t wire.PutChunkTrailer
	if h.Type != wire.TypePutChunk || h.Status != wire.StatusOK {
		return sum, &reqError{status: wire.StatusBadRequest, msg: "expected the upload's trailer", fatal: true}
	}
	if err := decode(body, &t); err != nil {
		return sum, err
	}
	b, err := hex.DecodeString(t.SHA256)
	if err != nil || len(b) != sha256.Size {
		return sum, &reqError{status: wire.StatusBadRequest, msg: "invalid sha256 in the trailer", fatal: true}
	}
	copy(sum[:], b)
	return sum, nil
}

// replyPut answers a chunk upload: the hash received and, for a request
// naming its entry, whether a live entry is there.
func (c *session) replyPut(req wire.PutChunkReq, sum string) error {
	resp := wire.PutChunkResp{SHA256: sum}
	if req.Path != "" {
		p, _ := cleanPath(req.Path, false) // checked before the data came
		steps, err := c.us.walk(p)
		if err != nil {
			return err
		}
		resp.Exists = live(steps[len(steps)-1].meta)
	}
	return c.send(wire.TypePutChunk, resp)
}

// openChunk opens a chunk file without following symlinks and checks its
// header.
func (u *userStore) openChunk(rel string) (*chunkFile, error) {
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
	return &chunkFile{f: f, hdr: hdr}, nil
}

// getChunk streams a byte range of a chunk, checking every block read.
func (c *session) getChunk(body []byte) error {
	var req wire.GetChunkReq
	if err := decode(body, &req); err != nil {
		return err
	}
	p, err := cleanPath(req.Path, false)
	if err != nil {
		return err
	}
	if err := checkStamp("version", req.Version); err != nil {
		return err
	}
	if req.Chunk < 0 || req.Chunk > 3 || req.Offset < 0 {
		return badRequest("invalid chunk or offset")
	}
	steps, err := c.us.walk(p)
	if err != nil {
		return err
	}
	last := steps[len(steps)-1]
	var cf *chunkFile
	err = fs.ErrNotExist
	if last.exists {
		if last.inline {
			full, err := c.us.full(&last)
			if err != nil {
				return err
			}
			if data, ok := inlineChunkOf(full, req.Version, req.Chunk); ok {
				return c.sendInline(data, req.Offset, req.Length)
			}
		}
		cf, err = c.us.openChunk(last.rel + "/" + chunkName(req.Version, req.Chunk))
	}
	if errors.Is(err, fs.ErrNotExist) {
		// A reader still on a version replaced, removed or moved since it
		// opened it: the chunk may be set aside (see superseded.go).
		if data, ok := c.s.old.inlineChunk(oldKey(c.user, req.Version, req.Chunk)); ok {
			return c.sendInline(data, req.Offset, req.Length)
		}
		cf, err = c.us.openChunk(supersededDir + "/" + chunkName(req.Version, req.Chunk))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return replyErr(wire.StatusNotFound, "%s: chunk %d of version %s not on this node", p, req.Chunk, req.Version)
	}
	if errors.Is(err, errCorrupt) {
		c.s.quarantine(c.us, p, req.Version, req.Chunk, nil, err)
		return replyErr(wire.StatusCorrupt, "chunk %d of %s is corrupt on node %s", req.Chunk, p, c.s.cfg.Name)
	}
	if err != nil {
		return err
	}
	defer cf.f.Close()
	size := cf.hdr.Size
	if req.Offset > size {
		return badRequest("offset %d beyond the chunk's %d bytes", req.Offset, size)
	}
	end := size
	if req.Length >= 0 && req.Length < size-req.Offset {
		end = req.Offset + req.Length
	}
	if err := c.send(wire.TypeGetChunk, wire.GetChunkResp{Size: size, SHA256: hex.EncodeToString(cf.hdr.SHA256[:])}); err != nil {
		return err
	}
	if err := c.streamRange(cf, req.Offset, end); err != nil {
		var ce *connError
		if errors.As(err, &ce) || !errors.Is(err, errCorrupt) {
			return err
		}
		fi, _ := cf.f.Stat()
		c.s.quarantine(c.us, p, req.Version, req.Chunk, fi, err)
		return replyErr(wire.StatusCorrupt, "chunk %d of %s is corrupt on node %s", req.Chunk, p, c.s.cfg.Name)
	}
	return nil
}

// streamRange sends [off, end) of the chunk as data frames and the end
// frame. A read of the whole chunk also checks its SHA-256 before the end
// frame. A corrupt block ends the stream early with an errCorrupt error.
func (c *session) streamRange(cf *chunkFile, off, end int64) error {
	r := &rangeReader{c: c, cf: cf, off: off, end: end, buf: make([]byte, blockSize+4)}
	if off == 0 && end == cf.hdr.Size {
		r.sha = sha256.New()
	}
	_, err := c.wc.SendStream(r, make([]byte, 4*blockSize))
	if err != nil && r.err == nil {
		return &connError{err}
	}
	return r.err
}

// rangeReader reads a byte range of a chunk file block by block, checking
// each block's CRC, and moves the connection's deadline forward between
// reads (each read is followed by a frame write).
type rangeReader struct {
	c        *session
	cf       *chunkFile
	off, end int64
	buf      []byte
	pending  []byte // checked data not yet returned
	sha      hash.Hash
	err      error // the read error that ended the stream
}

func (r *rangeReader) Read(p []byte) (int, error) {
	_ = r.c.nc.SetDeadline(time.Now().Add(r.c.s.cfg.IOTimeout))
	n := 0
	for n < len(p) {
		if len(r.pending) == 0 {
			if r.off >= r.end {
				break
			}
			i := r.off / blockSize
			b, err := r.cf.readBlock(i, r.buf)
			if err != nil {
				r.err = err
				return n, err
			}
			if r.sha != nil {
				r.sha.Write(b)
			}
			start := i * blockSize
			r.pending = b[r.off-start : min(r.end-start, int64(len(b)))]
			r.off = start + int64(len(b))
		}
		k := copy(p[n:], r.pending)
		r.pending = r.pending[k:]
		n += k
	}
	if n == 0 {
		if r.sha != nil && [32]byte(r.sha.Sum(nil)) != r.cf.hdr.SHA256 {
			r.err = fmt.Errorf("%w: SHA-256 mismatch", errCorrupt)
			return 0, r.err
		}
		return 0, io.EOF
	}
	return n, nil
}
