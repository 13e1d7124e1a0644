package client

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// Sending a segment's chunks, the first phase of storing it (the commit of
// the file's version follows, put.go; draft.go sends). Every chunk goes to
// both nodes the segment's placement names. A chunk is
// read once (encrypted: sealed.go): its blocks are hashed (SHA-256, for the
// meta) as they are read
// and the same blocks are sent to both nodes at once, each node hashing
// what it received and answering with its hash, which must match. The
// chunks of a segment go in parallel, so all four nodes receive at once. Every
// request names the entry, and the nodes say whether they hold one there
// (see commit). Small files go their own way (putsmall.go).

// sendBlock is how much of a chunk is read, hashed and sent at a time.
const sendBlock = 512 << 10

// sendDepth is how many blocks may wait for the slower of a chunk's two
// nodes.
const sendDepth = 4

var blockPool = sync.Pool{New: func() any { b := make([]byte, sendBlock); return &b }}

// allInline reports whether every chunk of a segment of size bytes travels
// inline (encrypted, as it is stored).
func allInline(size int64) bool {
	for ch := 0; ch < core.NumChunks; ch++ {
		if s, e := core.ChunkBounds(size, ch); e-s+core.ChunkOverhead > wire.MaxInlineChunk {
			return false
		}
	}
	return true
}

// block is a piece of a chunk on its way to both of the chunk's nodes.
type block struct {
	buf  *[]byte
	n    int
	refs atomic.Int32
}

func (b *block) data() []byte { return (*b.buf)[:b.n] }

func (b *block) release() {
	if b.refs.Add(-1) == 0 {
		blockPool.Put(b.buf)
	}
}

// sendChunk reads one chunk from sec once and sends it to both its nodes.
// It returns the chunk's size and SHA-256 (empty when reading failed) and
// each node's error. A node that stops taking data, or has not answered
// well after the other did, is left behind (errLagging; see nodeGroup), so
// a hung node costs about Config.Stall rather than the I/O timeout, and its
// partner is never starved of data meanwhile.
func (c *Client) sendChunk(ctx context.Context, sec *io.SectionReader, name, seg string, ch int, nodes [core.Copies]int, upload string, progress func(int64), seen func(n int, exists bool)) (wire.ChunkInfo, [core.Copies]error) {
	size := sec.Size()
	info := wire.ChunkInfo{Size: size}
	var feeds [core.Copies]chan *block
	var dead [core.Copies]atomic.Bool
	var sum string // set before the feeds close
	for i := range feeds {
		feeds[i] = make(chan *block, sendDepth)
	}
	g := c.startGroup(ctx, nodes[:], func(ctx context.Context, n int) error {
		i := slices.Index(nodes[:], n)
		// No retry inside: the blocks are consumed as they go (see sendSegment).
		req := wire.PutChunkReq{Upload: upload, Segment: seg, Chunk: ch, Size: size, Path: name}
		err := c.callOnce(ctx, n, func(s *stub) error {
			exists, err := s.sendChunk(req, feedData(feeds[i], &sum, progress))
			seen(n, exists)
			return err
		})
		if err != nil {
			dead[i].Store(true)
		}
		for b := range feeds[i] { // drain, so the reader never blocks on a dead node
			b.release()
		}
		return err
	})
	// A hung node is left behind once its partner has the chunk; while
	// the partner still takes data, the feeder decides (leave).
	g.canLeave = func(n int) bool { return g.succeeded(nodes[0]) || g.succeeded(nodes[1]) }
	h := sha256.New()
	readErr := c.feed(sec, h, feeds, &dead, func(i int, since time.Time) bool {
		if c.alive(ctx, nodes[i], since) {
			return false // only slow: its partner waits
		}
		g.cut(nodes[i])
		return true
	})
	if readErr == nil {
		sum = hex.EncodeToString(h.Sum(nil))
		info.SHA256 = sum
	}
	for i := range feeds {
		close(feeds[i])
	}
	nodeErrs := g.wait()
	errs := [core.Copies]error{nodeErrs[nodes[0]], nodeErrs[nodes[1]]}
	if readErr != nil {
		errs = [core.Copies]error{readErr, readErr}
	}
	return info, errs
}

// feed reads sec block by block, hashing each and handing it to the feeds
// of the nodes still taking it (push), until the end or a read error. When
// both nodes have failed it still reads and hashes the rest: the hash is
// what a retry on a fresh connection is checked against (see sendSegment), so it
// must be the whole chunk's.
func (c *Client) feed(sec *io.SectionReader, h hash.Hash, feeds [core.Copies]chan *block, dead *[core.Copies]atomic.Bool, leave func(i int, since time.Time) bool) error {
	start := time.Now()
	for off := int64(0); off < sec.Size(); {
		buf := blockPool.Get().(*[]byte)
		n, err := sec.ReadAt((*buf)[:min(int64(sendBlock), sec.Size()-off)], off)
		if err != nil && !(errors.Is(err, io.EOF) && off+int64(n) == sec.Size()) {
			blockPool.Put(buf)
			return fmt.Errorf("read: %w", err)
		}
		h.Write((*buf)[:n])
		off += int64(n)
		b := &block{buf: buf, n: n}
		b.refs.Store(2)
		wait := max(c.cfg.Stall, time.Since(start)/4)
		for i := range feeds {
			if dead[i].Load() || !push(feeds, dead, i, b, wait, leave) {
				b.release() // the node's sender takes no more blocks
			}
		}
	}
	return nil
}

// push hands b to node i's feed, waiting while the feed is full. Each time
// it stays full for wait (Config.Stall, or a quarter of the time the chunk
// has taken so far, if longer) while the partner keeps taking data,
// leave(i, since) decides whether to go on without the node (a hung node:
// its partner must not be starved); push then marks it dead and reports
// false. When both are slow, both are waited for.
func push(feeds [core.Copies]chan *block, dead *[core.Copies]atomic.Bool, i int, b *block, wait time.Duration, leave func(i int, since time.Time) bool) bool {
	select {
	case feeds[i] <- b:
		return true
	default:
	}
	since := time.Now()
	t := time.NewTimer(wait)
	defer t.Stop()
	partner := 1 - i
	for {
		select {
		case feeds[i] <- b:
			return true
		case <-t.C:
			if !dead[partner].Load() && len(feeds[partner]) < cap(feeds[partner]) && leave(i, since) {
				dead[i].Store(true)
				return false
			}
			t.Reset(wait)
		}
	}
}

// feedData is one node's side of sendChunk: the blocks of its feed as they
// come, then the SHA-256 the reader computed (sum, set before the feed
// closes; empty when reading failed, whose error is reported).
func feedData(feed <-chan *block, sum *string, progress func(int64)) chunkData {
	return func(w io.Writer) (string, error) {
		for b := range feed {
			_, err := w.Write(b.data())
			n := b.n
			b.release()
			if err != nil {
				return "", err
			}
			progress(int64(n))
		}
		if *sum == "" {
			return "", errors.New("chunk not read") // the reader failed; its error is reported
		}
		return *sum, nil
	}
}

// sendChunkTo sends one chunk (info.Size bytes of src, which must be
// re-readable from its start, so a stale pooled connection can be retried)
// into node n's staging area under upload; info.SHA256 is checked by the
// node. Heal and retries use it.
func (c *Client) sendChunkTo(ctx context.Context, n int, upload, seg string, ch int, src *io.SectionReader, info wire.ChunkInfo, progress func(int64)) error {
	buf := blockPool.Get().(*[]byte)
	defer blockPool.Put(buf)
	req := wire.PutChunkReq{Upload: upload, Segment: seg, Chunk: ch, Size: info.Size, SHA256: info.SHA256}
	return c.call(ctx, n, func(s *stub) error {
		_, err := s.sendChunk(req, sectionData(src, info.SHA256, *buf, progress))
		return err
	})
}

// sectionData is a chunk read from src, from its start every time (a
// retry reads it again), whose SHA-256 is known.
func sectionData(src *io.SectionReader, sum string, buf []byte, progress func(int64)) chunkData {
	return func(w io.Writer) (string, error) {
		if _, err := src.Seek(0, io.SeekStart); err != nil {
			return "", err
		}
		_, err := io.CopyBuffer(progressWriter{w, progress}, src, buf)
		return sum, err
	}
}

// progressWriter reports the bytes of every write once it is done.
type progressWriter struct {
	w        io.Writer
	progress func(int64)
}

func (p progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.progress(int64(n))
	return n, err
}

func newUploadID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
