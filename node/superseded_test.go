package node

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// TestSupersededByVersion: the chunks of a version that was overwritten,
// renamed over or deleted stay readable by version for the grace period,
// wherever its entry went since (a reader in the middle of a file that is
// then moved), and the sweep then removes them, whatever renames happened
// meanwhile: the data folder comes back to the live versions alone.
func TestSupersededByVersion(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	data := testData(300<<10, 7)
	v1, _, err := c.upload("d/f", data)
	if err != nil {
		t.Fatal(err)
	}
	v2, _, err := c.upload("d/f", data[:200<<10])
	if err != nil {
		t.Fatal(err)
	}
	if err := c.call(wire.TypeRename, wire.RenameReq{From: "d", To: "e", Stamp: core.NewVersion()}, nil); err != nil {
		t.Fatal(err)
	}
	v3, _, err := c.upload("g", data[:100<<10])
	if err != nil {
		t.Fatal(err)
	}
	// e/f replaces g, as an editor's save does.
	if err := c.call(wire.TypeRename, wire.RenameReq{From: "e/f", To: "g", Stamp: core.NewVersion()}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.updateOp(wire.UpdateDelete, "g", wire.Meta{Stamp: core.NewVersion()}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct {
		m    wire.Meta
		path string // where a reader opened it
		size int
	}{{v1, "d/f", 300 << 10}, {v2, "d/f", 200 << 10}, {v3, "g", 100 << 10}} {
		var got []byte
		for i := 0; i < core.NumChunks; i++ {
			b, err := c.get(v.path, v.m.Version, i, 0, -1)
			if err != nil {
				t.Fatalf("chunk %d of %s (opened at %s) during the grace: %v", i, v.m.Version, v.path, err)
			}
			got = append(got, b...)
		}
		if !bytes.Equal(got, data[:v.size]) {
			t.Fatalf("version %s read back wrong", v.m.Version)
		}
	}
	if err := n.s.store.Sync(); err != nil {
		t.Fatal(err)
	}
	n.s.store.SweepSuperseded(time.Now())
	if _, err := c.get("d/f", v1.Version, 0, 0, -1); status(err) != wire.StatusNotFound {
		t.Errorf("v1 still served after the sweep: %v", err)
	}
	var left []string
	filepath.WalkDir(filepath.Join(n.dir, "users/alice"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if isChunkName(d.Name()) {
				left = append(left, p)
			}
		}
		return nil
	})
	if len(left) != 0 {
		t.Errorf("chunk files left after everything was removed and swept: %v", left)
	}
}

// TestSupersededInline: a small file rewritten again and again keeps every
// replaced version readable for the grace period, not only the last one
// (a reader on another mount may be several versions behind).
func TestSupersededInline(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	var metas []wire.Meta
	for i := 0; i < 5; i++ {
		m, err := uploadInline(c, "small", testData(2000+i, byte(i)))
		if err != nil {
			t.Fatal(err)
		}
		metas = append(metas, m)
	}
	if err := c.updateOp(wire.UpdateDelete, "small", wire.Meta{Stamp: core.NewVersion()}); err != nil {
		t.Fatal(err)
	}
	for i, m := range metas {
		var got []byte
		for ch := 0; ch < core.NumChunks; ch++ {
			b, err := c.get("small", m.Version, ch, 0, -1)
			if err != nil {
				t.Fatalf("version %d chunk %d: %v", i, ch, err)
			}
			got = append(got, b...)
		}
		if !bytes.Equal(got, testData(2000+i, byte(i))) {
			t.Fatalf("version %d read back wrong", i)
		}
	}
	n.s.store.SweepSuperseded(time.Now())
	if _, err := c.get("small", metas[0].Version, 0, 0, -1); status(err) != wire.StatusNotFound {
		t.Errorf("inline version still served after the sweep: %v", err)
	}
	if names, _ := os.ReadDir(filepath.Join(n.dir, "users/alice", supersededDir)); len(names) != 0 {
		t.Errorf("inline chunks were written to the superseded folder: %d files", len(names))
	}
}

// uploadInline stores data at path with its four chunks inline.
func uploadInline(c *tclient, path string, data []byte) (wire.Meta, error) {
	ver := core.NewVersion()
	m := wire.Meta{Stamp: ver, Born: ver, Version: ver, Size: int64(len(data)), Mode: 0o644, MTime: time.Now().UnixNano()}
	up := randHex(16)
	for i := 0; i < core.NumChunks; i++ {
		s, e := core.ChunkBounds(int64(len(data)), i)
		sum := sha256.Sum256(data[s:e])
		m.Chunks[i] = wire.ChunkInfo{Size: e - s, SHA256: hex.EncodeToString(sum[:])}
		if err := c.putChunk(wire.PutChunkReq{Upload: up, Chunk: i, Inline: true}, data[s:e]); err != nil {
			return m, err
		}
	}
	return m, c.call(wire.TypeCommit, wire.CommitReq{Path: path, Upload: up, Meta: m}, nil)
}

// TestSupersededInlineNoGap: a reader of a small file's version keeps
// reading it while the file is rewritten again and again: there is no
// moment when the version is in neither the entry's meta nor the set-aside
// chunks (its chunks once went aside only after the new meta was written).
func TestSupersededInlineNoGap(t *testing.T) {
	n := startNode(t, nil)
	w := login(t, n.addr, "alice", "Crimson33")
	r := login(t, n.addr, "alice", "Crimson33")
	cur, err := uploadInline(w, "f", testData(3000, 0))
	if err != nil {
		t.Fatal(err)
	}
	var reading atomic.Value
	reading.Store(cur)
	stop := make(chan struct{})
	failed := make(chan error, 1)
	go func() {
		defer close(failed)
		for {
			select {
			case <-stop:
				return
			default:
			}
			m := reading.Load().(wire.Meta)
			if _, err := r.get("f", m.Version, 2, 0, -1); err != nil {
				failed <- fmt.Errorf("version %s while it was being replaced: %w", m.Version, err)
				return
			}
		}
	}()
	for i := 1; i <= 300; i++ {
		m, err := uploadInline(w, "f", testData(3000+i, byte(i)))
		if err != nil {
			t.Fatal(err)
		}
		reading.Store(m)
		if len(failed) > 0 {
			break
		}
	}
	close(stop)
	if err := <-failed; err != nil {
		t.Fatal(err)
	}
}
