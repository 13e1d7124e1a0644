package node

import (
	"bytes"
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

// TestReleasedByReference: the segments of a version that was overwritten,
// renamed over or deleted stay readable by id for the grace period,
// wherever its entry went since (a reader in the middle of a file that is
// then moved), and the sweep then removes them, whatever renames happened
// meanwhile: the data folder comes back to the live versions alone.
func TestReleasedByReference(t *testing.T) {
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
		got, err := c.readAll(v.path, v.m)
		if err != nil || !bytes.Equal(got, data[:v.size]) {
			t.Fatalf("version %s (opened at %s) during the grace: %v", v.m.Version, v.path, err)
		}
	}
	if err := n.s.store.Sync(); err != nil {
		t.Fatal(err)
	}
	n.s.store.SweepReleased(time.Now())
	if _, err := c.get("d/f", v1.Segments[0].ID, 0, 0, -1); status(err) != wire.StatusNotFound {
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
	var u wire.InfoResp
	if err := c.call(wire.TypeInfo, wire.InfoReq{}, &u); err != nil || u.Used != 0 {
		t.Errorf("use after everything was removed and swept: %d, %v", u.Used, err)
	}
}

// TestReleasedInline: a small file rewritten again and again keeps every
// replaced version readable for the grace period, not only the last one
// (a reader on another mount may be several versions behind).
func TestReleasedInline(t *testing.T) {
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
		got, err := c.readAll("small", m)
		if err != nil || !bytes.Equal(got, testData(2000+i, byte(i))) {
			t.Fatalf("version %d read back wrong: %v", i, err)
		}
	}
	n.s.store.SweepReleased(time.Now())
	if _, err := c.get("small", metas[0].Segments[0].ID, 0, 0, -1); status(err) != wire.StatusNotFound {
		t.Errorf("inline version still served after the sweep: %v", err)
	}
	if names, _ := os.ReadDir(filepath.Join(n.dir, "users/alice", segmentsDir)); len(names) != 0 {
		t.Errorf("inline chunks were written to the segments folder: %d folders", len(names))
	}
}

// uploadInline stores data (a file of one segment) at path with its four
// chunks inline.
func uploadInline(c *tclient, path string, data []byte) (wire.Meta, error) {
	seg := segmentOf(0, data)
	m := fileMeta(int64(len(data)), []wire.Segment{seg})
	up := randHex(16)
	for i := 0; i < core.NumChunks; i++ {
		if err := c.putChunk(wire.PutChunkReq{Segment: seg.ID, Upload: up, Chunk: i, Inline: true}, chunkOf(data, i)); err != nil {
			return m, err
		}
	}
	return m, c.call(wire.TypeCommit, wire.CommitReq{Path: path, Upload: up, Meta: m}, nil)
}

// TestReleasedInlineNoGap: a reader of a small file's version keeps
// reading it while the file is rewritten again and again: there is no
// moment when the version is in neither the entry's meta nor the set-aside
// chunks (its chunks once went aside only after the new meta was written).
func TestReleasedInlineNoGap(t *testing.T) {
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
			if _, err := r.get("f", m.Segments[0].ID, 2, 0, -1); err != nil {
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
