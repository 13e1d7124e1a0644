package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// maxSizeMeta is a new version of a file of core.MaxFileSize with every
// segment listed, under made-up ids and hashes: a node shares a segment it
// does not hold by id and shows it missing in Held, so the meta commits
// without any data sent.
func maxSizeMeta() wire.Meta {
	segs := make([]wire.Segment, core.NumSegments(core.MaxFileSize))
	for k := range segs {
		s := wire.Segment{Index: int64(k), ID: fmt.Sprintf("%016x%08x", 1<<60+k, k), Size: core.SegmentSize,
			MD5: fmt.Sprintf("%032x", k)}
		for c := range s.Chunks {
			s.Chunks[c] = wire.ChunkInfo{Size: wire.StoredChunkSize(core.SegmentSize, c), SHA256: fmt.Sprintf("%064x", 4*k+c)}
		}
		segs[k] = s
	}
	return fileMeta(core.MaxFileSize, segs)
}

// TestMaxSizeFile commits the meta of a file of core.MaxFileSize (65,536
// segments), looks it up and lists it beside small files: every frame fits
// its cap, and a LIST batch puts the big entry in a batch of its own. One
// byte more is a bad request. DFS_MEASURE=1 logs the times.
func TestMaxSizeFile(t *testing.T) {
	if testing.Short() {
		t.Skip("commits a 12.5 MB meta")
	}
	n := startNode(t, func(cfg *Config) { cfg.IOTimeout = time.Minute })
	c := login(t, n.addr, "alice", "Crimson33")
	// Each step takes seconds under -race on a loaded machine (8 s a
	// commit was seen beside stress-ng): more than the 20 s a test
	// connection gets in all.
	_ = c.nc.SetDeadline(time.Now().Add(5 * time.Minute))
	for _, p := range []string{"d/a", "d/z"} {
		if _, _, err := c.upload(p, []byte("small")); err != nil {
			t.Fatal(err)
		}
	}
	m := maxSizeMeta()
	start := time.Now()
	held, err := c.commit("d/big", "", m)
	t.Logf("commit of %d segments: %v", len(m.Segments), time.Since(start))
	if err != nil || len(held) != len(m.Segments) || held[0] != 0 || held[len(held)-1] != 0 {
		t.Fatalf("commit: %d held, %v", len(held), err)
	}

	// A new version sharing every segment, as a rewrite of one segment of
	// a big file shares all the others.
	m2 := m
	m2.Stamp, m2.Version = core.NewVersion(), core.NewVersion()
	start = time.Now()
	if _, err := c.commit("d/big", "", m2); err != nil {
		t.Fatalf("second commit: %v", err)
	}
	t.Logf("second commit, every segment shared: %v", time.Since(start))
	if err := n.s.store.Sync(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(n.dir, "users", "alice", "files", "d", "big", "@meta")); err == nil {
		t.Logf("@meta: %d bytes", fi.Size())
	} else {
		t.Error(err)
	}

	start = time.Now()
	ch := c.lookup("d/big")
	t.Logf("lookup: %v", time.Since(start))
	got := ch[len(ch)-1]
	if got.Version != m2.Version || got.Size != core.MaxFileSize || len(got.Segments) != len(m.Segments) ||
		got.Segments[len(got.Segments)-1] != m.Segments[len(m.Segments)-1] {
		t.Fatalf("lookup: version %s size %d, %d segments", got.Version, got.Size, len(got.Segments))
	}

	// LIST: the big entry travels in a batch of its own.
	start = time.Now()
	if err := c.c.Send(wire.TypeList, wire.StatusOK, wire.ListReq{Dir: "d"}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for {
		body, err := c.c.RecvBody(wire.TypeList)
		if err != nil {
			t.Fatal(err)
		}
		r, err := wire.DecodeListResp(body)
		if err != nil {
			t.Fatal(err)
		}
		var batch []string
		for _, e := range r.Entries {
			batch = append(batch, fmt.Sprintf("%s(%d)", e.Path, len(e.Segments)))
		}
		t.Logf("LIST batch of %d bytes: %v", len(body), batch)
		if len(r.Entries) > 1 && len(body) > listBatchBytes {
			t.Errorf("a batch of %d bytes holds %d entries", len(body), len(r.Entries))
		}
		names = append(names, batch...)
		if r.Done {
			break
		}
	}
	t.Logf("list: %v", time.Since(start))
	if want := "d/a(1) d/big(65536) d/z(1)"; strings.Join(names, " ") != want {
		t.Errorf("listed %v, want %s", names, want)
	}

	over := m2
	over.Size, over.Stamp, over.Version = core.MaxFileSize+1, core.NewVersion(), core.NewVersion()
	_, err = c.commit("d/big", "", over)
	wantStatus(t, "a file past core.MaxFileSize", err, wire.StatusBadRequest)
}
