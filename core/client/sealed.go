package client

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"dfs/core"
	"dfs/core/crypt"
	"dfs/core/wire"
)

// What the nodes hold of a segment: its four chunks, each encrypted on its
// own (crypt.Keys.SealChunk: core.ChunkOverhead bytes more than its share
// of the segment). The placement's MD5 and the chunks' SHA-256s are of
// the encrypted chunks, so they say nothing of the plaintext; whether a
// segment is a hole is decided on the plaintext (a hole is never sent).

// sealedSegment is a segment's four chunks encrypted, one after the other.
type sealedSegment struct {
	mem  *[]byte // from segmentBufs; nil for a small segment
	data []byte  // chunk 0, 1, 2 and 3, encrypted
	ends [core.NumChunks]int
}

// segmentBufs recycles the buffers of whole encrypted segments.
var segmentBufs = sync.Pool{New: func() any {
	b := make([]byte, core.SegmentSize+core.NumChunks*core.ChunkOverhead)
	return &b
}}

// sealSegment encrypts the chunks of seg (its ID and Size set; data its
// bytes) and sets seg's MD5 and each chunk's stored Size. The SHA-256s are
// left to whoever reads the chunks next (sendChunk hashes as it sends;
// sums). release gives the buffer back.
func sealSegment(keys *crypt.Keys, seg *wire.Segment, data []byte) *sealedSegment {
	ss := &sealedSegment{}
	n := len(data) + core.NumChunks*core.ChunkOverhead
	var buf []byte
	if n > 256<<10 {
		ss.mem = segmentBufs.Get().(*[]byte)
		buf = (*ss.mem)[:0]
	} else {
		buf = make([]byte, 0, n)
	}
	for ch := range core.NumChunks {
		s, e := core.ChunkBounds(seg.Size, ch)
		buf = keys.SealChunk(buf, seg.ID, ch, data[s:e])
		ss.ends[ch] = len(buf)
		seg.Chunks[ch].Size = e - s + core.ChunkOverhead
	}
	ss.data = buf
	sum := md5.Sum(buf)
	seg.MD5 = hex.EncodeToString(sum[:])
	return ss
}

// chunk returns encrypted chunk ch.
func (ss *sealedSegment) chunk(ch int) []byte {
	start := 0
	if ch > 0 {
		start = ss.ends[ch-1]
	}
	return ss.data[start:ss.ends[ch]]
}

// sums sets the SHA-256 of each chunk of seg, for a segment sent whole
// from memory (putSmall).
func (ss *sealedSegment) sums(seg *wire.Segment) {
	for ch := range seg.Chunks {
		h := sha256.Sum256(ss.chunk(ch))
		seg.Chunks[ch].SHA256 = hex.EncodeToString(h[:])
	}
}

// release gives the buffer back; the chunks are not to be used after.
func (ss *sealedSegment) release() {
	if ss.mem != nil {
		segmentBufs.Put(ss.mem)
	}
	ss.mem, ss.data = nil, nil
}

// chunkBufs recycles buffers that hold a whole stored chunk (the largest:
// a full segment's, windowSize plus core.ChunkOverhead): every read fetches
// and opens whole chunks.
var chunkBufs = sync.Pool{New: func() any {
	b := make([]byte, windowSize+core.ChunkOverhead)
	return &b
}}

// openChunkFrom reads the whole chunk at loc from node n into buf (at
// least its stored size), failing when the node is silent for idle, and
// opens it there with keys (the caller's c.keyring, taken before it asks
// any node, so that a failure to load them is not a node's): it returns the plaintext, within buf. This is the one
// place a fetched chunk is opened. A chunk that does not open is the
// node's bad copy, as a wrong SHA-256 was (read repair replaces it), and
// is counted against the node.
func (c *Client) openChunkFrom(ctx context.Context, keys *crypt.Keys, n int, loc *chunkLoc, buf []byte, idle time.Duration) ([]byte, error) {
	size := loc.stored()
	if int64(len(buf)) < size {
		return nil, fmt.Errorf("BUG: a buffer of %d bytes for %s of %d", len(buf), loc.name(), size)
	}
	if err := c.getChunkInto(ctx, n, loc, buf[:size], idle); err != nil {
		return nil, err
	}
	plain, err := keys.OpenChunkInPlace(loc.seg.ID, loc.ch, buf[:size])
	if err != nil {
		c.noteForged(n, "chunk", loc.path)
		return nil, &corruptError{node: n, err: fmt.Errorf("%s: %w", c.nodes[n].name, err)}
	}
	return plain, nil
}
