package node

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"

	"dfs/core"
	"dfs/core/wire"
	"dfs/node/store"
)

// validUpload reports whether id is an upload id: 32 lowercase hex digits.
func validUpload(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// putChunk stores an uploaded chunk in staging after checking its size and
// SHA-256. A broken stream closes the connection; a full disk or a mismatch
// is replied to once the stream is drained.
func (c *session) putChunk(body []byte) error {
	var req wire.PutChunkReq
	if err := decode(body, &req); err != nil {
		return err
	}
	if !validUpload(req.Upload) || !core.ValidVersion(req.Segment) || req.Chunk < 0 || req.Chunk >= core.NumChunks || req.Size < 0 || req.Size > store.MaxChunkSize {
		return &reqError{status: wire.StatusBadRequest, msg: "invalid upload id, segment, chunk or size", fatal: true}
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
	if req.Inline && req.Size > wire.MaxInlineChunk {
		return &reqError{status: wire.StatusBadRequest, msg: "inline chunk too large", fatal: true}
	}
	release, err := c.reserveQuota(req)
	if err != nil {
		return c.refuseUpload(req, err)
	}
	defer release()
	if req.Inline {
		return c.putInline(req)
	}
	sc, err := c.us.Stage(req.Upload, req.Segment, req.Chunk, req.Size, !req.Trailer)
	if err != nil {
		return c.refuseUpload(req, err)
	}
	defer sc.Close()
	n, err := c.wc.RecvStream(sc, req.Size)
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
	if err := sc.Err(); err != nil {
		return err
	}
	if n != req.Size {
		return replyErr(wire.StatusCorrupt, "received %d bytes, expected %d", n, req.Size)
	}
	sum, err := sc.Finish(given)
	if err != nil {
		return err
	}
	got := hex.EncodeToString(sum[:])
	if req.SHA256 != "" && !strings.EqualFold(got, req.SHA256) {
		return replyErr(wire.StatusCorrupt, "SHA-256 of the received chunk does not match")
	}
	if err := sc.Keep(); err != nil {
		return err
	}
	return c.replyPut(req, got)
}

// refuseUpload drains an upload's data stream (and trailer) so that the
// reply refusing it (err) lands where the client expects it.
func (c *session) refuseUpload(req wire.PutChunkReq, err error) error {
	if _, rerr := c.wc.RecvStream(io.Discard, req.Size); rerr != nil {
		return &connError{rerr}
	}
	if req.Trailer {
		if _, terr := c.readTrailer(); terr != nil {
			return terr
		}
	}
	return err
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
		live, err := c.us.Live(p)
		if err != nil {
			return err
		}
		resp.Exists = live
	}
	return c.send(wire.TypePutChunk, resp)
}

// getChunk streams a byte range of a chunk of a stored segment (or of one
// staged by an upload), checking every block read.
func (c *session) getChunk(body []byte) error {
	var req wire.GetChunkReq
	if err := decode(body, &req); err != nil {
		return err
	}
	p, err := cleanPath(req.Path, true)
	if err != nil {
		return err
	}
	if err := checkStamp("segment", req.Segment); err != nil {
		return err
	}
	if req.Upload != "" && !validUpload(req.Upload) {
		return badRequest("invalid upload id")
	}
	if req.Chunk < 0 || req.Chunk >= core.NumChunks || req.Offset < 0 {
		return badRequest("invalid chunk or offset")
	}
	ch, err := c.us.OpenChunk(p, req.Upload, req.Segment, req.Chunk)
	if err == nil && ch.File == nil {
		return c.sendInline(ch.Data, req.Offset, req.Length)
	}
	if errors.Is(err, fs.ErrNotExist) {
		if req.Upload != "" {
			return replyErr(wire.StatusNotFound, "chunk %d of segment %s is not staged by upload %s on this node", req.Chunk, req.Segment, req.Upload)
		}
		return replyErr(wire.StatusNotFound, "%s: chunk %d of segment %s not on this node", p, req.Chunk, req.Segment)
	}
	if errors.Is(err, store.ErrCorrupt) {
		if req.Upload == "" {
			c.quarantine(req.Segment, req.Chunk, nil, err)
		}
		return replyErr(wire.StatusCorrupt, "chunk %d of segment %s of %s is corrupt on node %s", req.Chunk, req.Segment, p, c.s.cfg.Name)
	}
	if err != nil {
		return err
	}
	cf := ch.File
	defer cf.Close()
	size := cf.Header().Size
	if req.Offset > size {
		return badRequest("offset %d beyond the chunk's %d bytes", req.Offset, size)
	}
	end := size
	if req.Length >= 0 && req.Length < size-req.Offset {
		end = req.Offset + req.Length
	}
	sum := cf.Header().SHA256
	if err := c.send(wire.TypeGetChunk, wire.GetChunkResp{Size: size, SHA256: hex.EncodeToString(sum[:])}); err != nil {
		return err
	}
	if err := c.streamRange(cf, req.Offset, end); err != nil {
		var ce *connError
		if errors.As(err, &ce) || !errors.Is(err, store.ErrCorrupt) {
			return err
		}
		if req.Upload == "" {
			fi, _ := cf.Stat()
			c.quarantine(req.Segment, req.Chunk, fi, err)
		}
		return replyErr(wire.StatusCorrupt, "chunk %d of segment %s of %s is corrupt on node %s", req.Chunk, req.Segment, p, c.s.cfg.Name)
	}
	return nil
}

// streamRange sends [off, end) of the chunk as data frames and the end
// frame. A read of the whole chunk also checks its SHA-256 before the end
// frame. A corrupt block ends the stream early with a store.ErrCorrupt error.
func (c *session) streamRange(cf *store.ChunkFile, off, end int64) error {
	r := cf.NewRangeReader(off, end)
	_, err := c.wc.SendStream(r, make([]byte, 4*store.BlockSize))
	if err != nil && r.Err() == nil {
		return &connError{err}
	}
	return r.Err()
}

// quarantine sets a bad chunk file aside (see store.UserDir.Quarantine) and logs
// what became of it.
func (c *session) quarantine(seg string, n int, fi os.FileInfo, cause error) {
	name, err := c.us.Quarantine(seg, n, fi)
	if err != nil {
		c.s.log.Error("quarantine failed", "user", c.user, "segment", seg, "chunk", n, "err", err)
		return
	}
	c.s.log.Warn("bad chunk moved to quarantine", "user", c.user, "segment", seg, "chunk", n, "as", name, "cause", cause)
}

// putInline receives an inline chunk into memory.
func (c *session) putInline(req wire.PutChunkReq) error {
	var buf bytes.Buffer
	n, err := c.wc.RecvStream(&buf, req.Size)
	if err != nil {
		return &connError{err}
	}
	if n != req.Size {
		return replyErr(wire.StatusCorrupt, "received %d bytes, expected %d", n, req.Size)
	}
	sum := sha256.Sum256(buf.Bytes())
	got := hex.EncodeToString(sum[:])
	if req.SHA256 != "" && !strings.EqualFold(got, req.SHA256) {
		return replyErr(wire.StatusCorrupt, "SHA-256 of the received chunk does not match")
	}
	if err := c.us.StageInline(req.Upload, req.Segment, req.Chunk, buf.Bytes()); err != nil {
		return err
	}
	return c.replyPut(req, got)
}

// sendInline answers a GET_CHUNK from an inline chunk.
func (c *session) sendInline(data []byte, off, length int64) error {
	size := int64(len(data))
	if off > size {
		return badRequest("offset %d beyond the chunk's %d bytes", off, size)
	}
	end := size
	if length >= 0 && length < size-off {
		end = off + length
	}
	sum := sha256.Sum256(data)
	if err := c.send(wire.TypeGetChunk, wire.GetChunkResp{Size: size, SHA256: hex.EncodeToString(sum[:])}); err != nil {
		return err
	}
	if _, err := c.wc.SendStream(bytes.NewReader(data[off:end]), make([]byte, wire.MaxInlineChunk)); err != nil {
		return &connError{err}
	}
	return nil
}
