package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/core/wire"
	"dfs/internal/testcluster"
)

// zeros is a reader of any size that reads as zeros and counts its reads.
type zeros struct{ reads int }

func (z *zeros) ReadAt(p []byte, off int64) (int, error) {
	z.reads++
	clear(p)
	return len(p), nil
}

// TestPutTooLarge: a put past core.MaxFileSize fails with core.ErrTooLarge
// before reading anything or reaching a node.
func TestPutTooLarge(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	var r zeros
	_, err := cl.Put(ctxT(t), "vm.img", &r, core.MaxFileSize+1, client.PutOptions{})
	if !errors.Is(err, core.ErrTooLarge) || r.reads != 0 {
		t.Fatalf("put of MaxFileSize+1 bytes: %v after %d reads; want ErrTooLarge before any", err, r.reads)
	}
	t.Log(err)
	if _, err := cl.Stat(ctxT(t), "vm.img"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("stat after the refused put: %v", err)
	}
}

// TestMaxSizeEntry: the client reads the meta of a file of core.MaxFileSize
// (65,536 segments, committed on every node with made-up ids: a node lists
// the segments it does not hold as missing) by LOOKUP and LIST, and changes
// its mode (an UPDATE without the segments, which would not fit a control
// frame).
func TestMaxSizeEntry(t *testing.T) {
	if testing.Short() || testcluster.Race() {
		t.Skip("moves metas of 12.5 MB: 11 s, 300 s with -race")
	}
	c := testcluster.Start(t)
	segs := make([]wire.Segment, core.NumSegments(core.MaxFileSize))
	for k := range segs {
		s := wire.Segment{Index: int64(k), ID: fmt.Sprintf("%016x%08x", 1<<60+k, k), Size: core.SegmentSize, MD5: fmt.Sprintf("%032x", k)}
		for ch := range s.Chunks {
			s.Chunks[ch] = wire.ChunkInfo{Size: core.SegmentSize/core.NumChunks + core.ChunkOverhead, SHA256: fmt.Sprintf("%064x", 4*k+ch)}
		}
		segs[k] = s
	}
	// An hour old: an incomplete version that young could be a commit
	// under way, which a lookup asks about again (settle).
	v := fmt.Sprintf("%016x%08x", time.Now().Add(-time.Hour).UnixNano(), 1)
	m := wire.Meta{Stamp: v, Born: v, Version: v, Size: core.MaxFileSize, Mode: 0o644, MTime: time.Now().UnixNano(), Segments: segs}
	// A node answers a lookup of the meta in 0.15 s; on a loaded
	// machine it can take longer than the default 5 s.
	cfg := c.Config("alice", "Crimson33")
	cfg.Reply = time.Minute
	cl := testcluster.NewClient(t, cfg)
	ctx := context.Background()
	stored, err := cl.SealFor(ctx, "vm.img", &m)
	if err != nil {
		t.Fatal(err)
	}
	for n := range core.NumNodes {
		start := time.Now()
		wc, err := c.Login(n, "alice", "Crimson33")
		if err != nil {
			t.Fatal(err)
		}
		err = wc.SendBody(wire.TypeCommit, wire.AppendCommitReq(nil, &wire.CommitReq{Path: stored, Meta: m}))
		if err == nil {
			err = wc.Recv(wire.TypeCommit, &wire.CommitResp{})
		}
		wc.Close()
		if err != nil {
			t.Fatalf("commit on %s: %v", core.NodeName(n), err)
		}
		t.Logf("commit on %s: %v", core.NodeName(n), time.Since(start))
	}
	start := time.Now()
	e, err := cl.Stat(ctx, "vm.img")
	t.Logf("stat: %v", time.Since(start))
	if err != nil || e.Size != core.MaxFileSize || len(e.Segments) != len(segs) {
		t.Fatalf("stat: size %d, %d segments, %v", e.Size, len(e.Segments), err)
	}
	start = time.Now()
	ents, err := cl.ReadDir(ctx, "")
	t.Logf("readdir: %v", time.Since(start))
	if err != nil || len(ents) != 1 || len(ents[0].Segments) != len(segs) {
		t.Fatalf("readdir: %d entries, %v", len(ents), err)
	}
	start = time.Now()
	if _, err := cl.SetAttr(ctx, "vm.img", ptrMode(0o600), nil); err != nil {
		t.Fatalf("chmod: %v", err)
	}
	t.Logf("chmod: %v", time.Since(start))
	if e, err := cl.Stat(ctx, "vm.img"); err != nil || os.FileMode(e.Mode).Perm() != 0o600 || len(e.Segments) != len(segs) {
		t.Fatalf("after chmod: mode %o, %d segments, %v", e.Mode, len(e.Segments), err)
	}
}
