package core

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"dfs/core/wire"
)

// PutOptions are a file's attributes and progress reporting for Put.
type PutOptions struct {
	Mode     os.FileMode // permission bits; 0 means 0644
	MTime    time.Time   // zero means now
	Progress func(done int64)
	// Sync makes Put return only once the version is on the nodes' disks
	// (fsync). Without it Put returns once every node that took a copy has
	// applied it; the nodes write it to disk within their flush delay.
	Sync bool
}

// PutResult says how a Put was stored.
type PutResult struct {
	Version string
	State   State         // StateDegraded when some chunk got only one copy
	Failed  map[int]error // nodes that could not take their chunks
	Entry   Entry         // the entry as committed (Copies and State as the nodes reported)
}

// Hashes are a file's digests: MD5 of the whole (for placement) and SHA-256
// of each chunk (checked on every read).
type Hashes struct {
	MD5    [md5.Size]byte
	Chunks [NumChunks][sha256.Size]byte
}

// HashFile reads r once and computes its Hashes.
func HashFile(r io.ReaderAt, size int64) (Hashes, error) {
	var h Hashes
	m := md5.New()
	buf := make([]byte, 1<<20)
	for i := 0; i < NumChunks; i++ {
		s, e := ChunkBounds(size, i)
		sh := sha256.New()
		if _, err := io.CopyBuffer(io.MultiWriter(m, sh), io.NewSectionReader(r, s, e-s), buf); err != nil {
			return h, fmt.Errorf("read: %w", err)
		}
		sh.Sum(h.Chunks[i][:0])
	}
	m.Sum(h.MD5[:0])
	return h, nil
}

// Put stores size bytes of r as a new version of name. Every chunk goes to
// both nodes the placement table names; the version is committed when every
// chunk has at least one copy (reduced redundancy is reported in the result),
// and otherwise nothing is committed and any earlier version stays current.
func (c *Client) Put(ctx context.Context, name string, r io.ReaderAt, size int64, opt PutOptions) (PutResult, error) {
	name, err := CleanName(name)
	if err != nil {
		return PutResult{}, err
	}
	if name == "" {
		return PutResult{}, fmt.Errorf("%w: cannot write the top folder", ErrIsDir)
	}
	h, err := HashFile(r, size)
	if err != nil {
		return PutResult{}, err
	}
	return c.PutHashed(ctx, name, r, size, h, opt)
}

// PutHashed is Put for a caller that already computed the hashes (the mount
// hashes while the file is written).
func (c *Client) PutHashed(ctx context.Context, name string, r io.ReaderAt, size int64, h Hashes, opt PutOptions) (PutResult, error) {
	x := PlacementX(h.MD5[:])
	upload := newUploadID()
	var sent atomic.Int64
	progress := func(n int64) {
		if opt.Progress != nil {
			opt.Progress(sent.Add(n) / 2)
		}
	}
	var chunks [NumChunks]wire.ChunkInfo
	for i := range chunks {
		s, e := ChunkBounds(size, i)
		chunks[i] = wire.ChunkInfo{Size: e - s, SHA256: hex.EncodeToString(h.Chunks[i][:])}
	}
	upErrs := c.fanout(ctx, allNodes, func(ctx context.Context, n int) error {
		for _, ch := range NodeChunks(x, n) {
			s, _ := ChunkBounds(size, ch)
			src := io.NewSectionReader(r, s, chunks[ch].Size)
			if err := c.putChunk(ctx, n, upload, ch, src, chunks[ch], progress); err != nil {
				return err
			}
		}
		return nil
	})
	if err := ctx.Err(); err != nil {
		return PutResult{}, err
	}
	if err := coverage(c, x, upErrs, "stored"); err != nil {
		return PutResult{}, err
	}
	mode := uint32(opt.Mode.Perm())
	if opt.Mode == 0 {
		mode = 0o644
	}
	mtime := opt.MTime
	if mtime.IsZero() {
		mtime = time.Now()
	}
	v := NewVersion()
	meta := wire.Meta{
		Stamp: v, Born: v, Version: v, Size: size, Mode: mode, MTime: mtime.UnixNano(),
		MD5: hex.EncodeToString(h.MD5[:]), Chunks: chunks,
	}
	return c.commit(ctx, name, upload, meta, x, upErrs, opt.Sync)
}

// commitWaves orders commits so that a writer killed between them leaves a
// whole version readable: DFS1+DFS3 hold every chunk, and so do DFS2+DFS4, so
// the old version stays whole on one pair while the other pair switches.
var commitWaves = [][]int{{0, 2}, {1, 3}}

func (c *Client) commit(ctx context.Context, name, upload string, meta wire.Meta, x int, upErrs []error, sync bool) (PutResult, error) {
	res := PutResult{Version: meta.Version, Failed: map[int]error{}}
	cErrs := make([]error, NumNodes)
	held := make([][]int, NumNodes)
	stale := 0
	for _, wave := range commitWaves {
		errs := c.fanout(ctx, wave, func(ctx context.Context, n int) error {
			var resp wire.CommitResp
			err := c.call(ctx, n, func(conn *wire.Conn) error {
				conn.SetDeadline(c.ioDeadline()) // a commit fsyncs: allow it the I/O time
				if err := conn.Send(wire.TypeCommit, wire.StatusOK, wire.CommitReq{Path: name, Upload: upload, Meta: meta, Sync: sync}); err != nil {
					return err
				}
				return conn.Recv(wire.TypeCommit, &resp)
			})
			held[n] = resp.Held
			return err
		})
		for _, n := range wave {
			cErrs[n] = errs[n]
			if errors.Is(errs[n], ErrStale) {
				stale++
			}
		}
	}
	if stale > 0 {
		return c.afterStale(ctx, name, meta)
	}
	var copies [NumChunks][]int
	for n := 0; n < NumNodes; n++ {
		if err := firstErr(upErrs[n], cErrs[n]); err != nil {
			res.Failed[n] = err
			continue
		}
		for _, ch := range held[n] {
			if ch >= 0 && ch < NumChunks && NodeHolds(x, n, ch) {
				copies[ch] = append(copies[ch], n)
			}
		}
	}
	res.State = stateOf(copies)
	res.Entry = fromMeta(name, &meta)
	res.Entry.Copies, res.Entry.State = copies, res.State
	if res.State == StateIncomplete {
		return res, fmt.Errorf("%w: commit failed: %s", ErrUnavailable, c.describe(res.Failed))
	}
	return res, nil
}

// afterStale decides what a commit refused as stale by some node means: a
// newer stamp reached that node first (another writer, a delete, or an
// attribute change). If readers now get our version, its state is reported
// as the nodes hold it; otherwise ours was overwritten as if it had come
// first, which is a success. (An attribute change that stamped each node's
// own version alike is resolved by choose, which prefers the newer content
// on equal stamps.) A commit is not retried with a newer stamp: the stale
// nodes have dropped the upload, and a retry would race the other writer.
func (c *Client) afterStale(ctx context.Context, name string, meta wire.Meta) (PutResult, error) {
	e, err := c.Stat(ctx, name)
	switch {
	case errors.Is(err, ErrNotFound):
		return PutResult{Version: meta.Version, State: StateOK}, nil
	case err != nil:
		return PutResult{Version: meta.Version}, err
	case e.Version == meta.Version && e.State == StateIncomplete:
		return PutResult{Version: meta.Version, State: e.State}, fmt.Errorf("%w: %s: commit incomplete", ErrUnavailable, name)
	case e.Version == meta.Version:
		return PutResult{Version: meta.Version, State: e.State, Failed: map[int]error{}}, nil
	}
	return PutResult{Version: meta.Version, State: StateOK}, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// coverage checks that every chunk reached at least one of its nodes.
func coverage(c *Client, x int, errs []error, verb string) error {
	var missing []string
	var causes []error
	for ch := 0; ch < NumChunks; ch++ {
		nodes := ChunkNodes(x, ch)
		if errs[nodes[0]] != nil && errs[nodes[1]] != nil {
			missing = append(missing, fmt.Sprintf("chunk %d (%s and %s)", ch+1, c.nodes[nodes[0]].name, c.nodes[nodes[1]].name))
			causes = append(causes, errs[nodes[0]], errs[nodes[1]])
		}
	}
	if len(missing) == 0 {
		return nil
	}
	kind := ErrUnavailable
	for _, e := range causes {
		if errors.Is(e, ErrNoSpace) {
			kind = ErrNoSpace
		}
	}
	failed := map[int]error{}
	for n, e := range errs {
		if e != nil {
			failed[n] = e
		}
	}
	return fmt.Errorf("%w: %s could not be %s: %s; the previous version, if any, is unchanged",
		kind, strings.Join(missing, ", "), verb, c.describe(failed))
}

// describe lists node errors as "DFS2: ..., DFS3: ...".
func (c *Client) describe(failed map[int]error) string {
	var parts []string
	for n := 0; n < NumNodes; n++ {
		if err, ok := failed[n]; ok {
			parts = append(parts, err.Error())
		}
	}
	return strings.Join(parts, "; ")
}

// putChunk uploads one chunk (info.Size bytes of src, which must be
// re-readable from its start, so a stale pooled connection can be retried)
// into node n's staging area under upload.
func (c *Client) putChunk(ctx context.Context, n int, upload string, ch int, src *io.SectionReader, info wire.ChunkInfo, progress func(int64)) error {
	// A small file's chunks travel to the node's memory and are written
	// with the commit, inside the entry's meta (see wire.PutChunkReq).
	inline := info.Size <= wire.MaxInlineChunk
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	return c.call(ctx, n, func(conn *wire.Conn) error {
		conn.SetDeadline(c.ioDeadline())
		req := wire.PutChunkReq{Upload: upload, Chunk: ch, Size: info.Size, SHA256: info.SHA256, Inline: inline}
		if err := conn.Write(wire.TypePutChunk, wire.StatusOK, req); err != nil {
			return err
		}
		if _, err := src.Seek(0, io.SeekStart); err != nil {
			return err
		}
		dr := &deadlineReader{r: src, conn: conn, c: c, progress: progress}
		if _, err := conn.SendStream(dr, *buf); err != nil {
			return err
		}
		conn.SetDeadline(c.ioDeadline())
		return conn.Recv(wire.TypePutChunk, nil)
	})
}

// deadlineReader pushes the connection's deadline forward as data flows, so
// only silence (not a long transfer) times out.
type deadlineReader struct {
	r        io.Reader
	conn     *wire.Conn
	c        *Client
	progress func(int64)
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if n > 0 {
		d.conn.SetDeadline(d.c.ioDeadline())
		d.progress(int64(n))
	}
	return n, err
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func newUploadID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
