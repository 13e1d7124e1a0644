package node

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/wire"
	"dfs/node/store"
)

// never is a flush delay no test waits for: only SYNC and Sync flush.
const never = time.Hour

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// metaFiles returns the meta file names in an entry directory.
func metaFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n.Name(), "@meta") {
			out = append(out, n.Name())
		}
	}
	return out
}

// TestGroupCommit: a change is visible as soon as it is acknowledged, sits
// in @meta.new until a flush, and SYNC (or Sync on the change) replies only
// after the flush promoted it to @meta.
func TestGroupCommit(t *testing.T) {
	n := startNode(t, func(c *Config) { c.FlushDelay = never })
	c := login(t, n.addr, "alice", "Crimson33")
	m, _, err := c.upload("f", testData(100<<10, 1))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(n.dir, "users/alice/files/f")
	if got := metaFiles(t, dir); !slices.Equal(got, []string{metaNewName}) {
		t.Fatalf("before a flush: %v, want only %s", got, metaNewName)
	}
	if ch := c.lookup("f"); len(ch) != 1 || ch[0].Version != m.Version {
		t.Fatalf("acknowledged change not visible: %+v", ch)
	}
	if err := c.call(wire.TypeSync, wire.SyncReq{}, nil); err != nil {
		t.Fatal(err)
	}
	if got := metaFiles(t, dir); !slices.Equal(got, []string{metaName}) {
		t.Fatalf("after SYNC: %v, want only %s", got, metaName)
	}

	// Sync on the change itself.
	st := core.NewVersion()
	if err := c.call(wire.TypeUpdate, wire.UpdateReq{Op: wire.UpdateSetattr, Path: "f", Meta: wire.Meta{Stamp: st, Version: m.Version, Mode: 0o600}, Sync: true}, nil); err != nil {
		t.Fatal(err)
	}
	if got := metaFiles(t, dir); !slices.Equal(got, []string{metaName}) {
		t.Fatalf("after a Sync update: %v", got)
	}
	disk, err := os.ReadFile(filepath.Join(dir, metaName))
	if err != nil || !bytes.Contains(disk, []byte(st)) {
		t.Fatalf("durable meta lacks the change: %s %v", disk, err)
	}
}

// TestBackgroundFlush: without any Sync, changes reach @meta within the
// flush delay.
func TestBackgroundFlush(t *testing.T) {
	n := startNode(t, func(c *Config) { c.FlushDelay = 20 * time.Millisecond })
	c := login(t, n.addr, "alice", "Crimson33")
	if _, _, err := c.upload("d/f", testData(10, 2)); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(n.dir, "users/alice/files/d/f")
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal(metaFiles(t, dir), []string{metaName}) {
		if time.Now().After(deadline) {
			t.Fatalf("not flushed: %v", metaFiles(t, dir))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRenameBeforeFlush: entries waiting for their flush inside a folder
// that is renamed are promoted at their new place.
func TestRenameBeforeFlush(t *testing.T) {
	n := startNode(t, func(c *Config) { c.FlushDelay = never })
	c := login(t, n.addr, "alice", "Crimson33")
	for _, p := range []string{"a/x", "a/sub/y"} {
		if _, _, err := c.upload(p, testData(5000, 3)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.call(wire.TypeRename, wire.RenameReq{From: "a", To: "b", Stamp: core.NewVersion()}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.call(wire.TypeSync, wire.SyncReq{}, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"b", "b/x", "b/sub", "b/sub/y", "a"} {
		if got := metaFiles(t, filepath.Join(n.dir, "users/alice/files", p)); !slices.Equal(got, []string{metaName}) {
			t.Errorf("%s after rename and SYNC: %v", p, got)
		}
	}
}

// crashCopy copies a running node's data folder: what a crash could leave
// if every write had reached the disk.
func crashCopy(t *testing.T, n *testNode) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "crashed")
	if err := os.CopyFS(dst, os.DirFS(n.dir)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestRecovery: what a crash can leave behind is repaired at start: a torn
// @meta.new leaves the last durable version (and the segments only the
// lost one listed are deleted), a whole one is kept with only the chunks
// that verify, and temporary files and uploads never committed go.
func TestRecovery(t *testing.T) {
	n := startNode(t, func(c *Config) { c.FlushDelay = never })
	c := login(t, n.addr, "alice", "Crimson33")
	v1data, v2data := testData(300<<10, 4), testData(200<<10, 5)
	v1, _, err := c.upload("f", v1data)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.call(wire.TypeSync, wire.SyncReq{}, nil); err != nil {
		t.Fatal(err)
	}
	v2, _, err := c.upload("f", v2data) // acknowledged, not flushed
	if err != nil {
		t.Fatal(err)
	}
	up := randHex(16)
	if err := c.put(up, testSeg, 0, testData(70<<10, 6)); err != nil { // staged, never committed
		t.Fatal(err)
	}

	start := func(dir string) *tclient {
		t.Helper()
		m := startNode(t, func(c *Config) { c.Dir = dir })
		return login(t, m.addr, "alice", "Crimson33")
	}
	read := func(c *tclient, m wire.Meta, data []byte) {
		t.Helper()
		got, err := c.readAll("f", m)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("version %s read back wrong: %v", m.Version, err)
		}
	}

	// Torn @meta.new: v1 stands, whole.
	torn := crashCopy(t, n)
	entry := filepath.Join(torn, "users/alice/files/f")
	if err := os.WriteFile(filepath.Join(entry, metaNewName), []byte(`{"stamp":"00`), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(entry, "@meta.tmp-0123"), []byte("junk"), 0o600)
	os.WriteFile(filepath.Join(torn, "users/alice/staging", up+"."+testSeg+".c1.tmp-99"), []byte("junk"), 0o600)
	tc := start(torn)
	if ch := tc.lookup("f"); len(ch) != 1 || ch[0].Version != v1.Version || !bytes.Equal(ch[0].Held, allHeld(1)) {
		t.Fatalf("after a torn change: %+v, want %s whole", ch, v1.Version)
	}
	read(tc, v1, v1data)
	if got := metaFiles(t, entry); !slices.Equal(got, []string{metaName}) {
		t.Errorf("meta files after recovery: %v", got)
	}
	for i := 0; i < core.NumChunks; i++ {
		if exists(filepath.Join(torn, "users/alice", segFile(v2.Segments[0].ID, i))) {
			t.Errorf("chunk %d of the lost version's segment kept", i)
		}
	}
	// An upload does not outlive its connections, which the stop closed.
	if left, _ := os.ReadDir(filepath.Join(torn, "users/alice/staging")); len(left) != 0 {
		t.Errorf("staging after recovery holds %d files, want none (the temporary file and the whole staged chunk gone)", len(left))
	}

	// Whole @meta.new with a torn chunk file: v2 stands without that copy.
	half := crashCopy(t, n)
	entry = filepath.Join(half, "users/alice/files/f")
	chunk := filepath.Join(half, "users/alice", segFile(v2.Segments[0].ID, 2))
	b, _ := os.ReadFile(chunk)
	for i := store.ChunkHeaderSize; i < len(b); i++ {
		b[i] = 0 // written back as zeros: the data never reached the disk
	}
	os.WriteFile(chunk, b, 0o600)
	hc := start(half)
	ch := hc.lookup("f")
	if len(ch) != 1 || ch[0].Version != v2.Version || !bytes.Equal(ch[0].Held, []uint8{0b1011}) {
		t.Fatalf("after a torn chunk: %+v, want %s holding 0 1 3", ch, v2.Version)
	}
	if exists(chunk) {
		t.Errorf("torn chunk file kept")
	}
	if got := metaFiles(t, entry); !slices.Equal(got, []string{metaName}) {
		t.Errorf("meta files after recovery: %v", got)
	}
	for i := 0; i < core.NumChunks; i++ {
		if i == 2 {
			continue
		}
		if got, err := hc.get("f", v2.Segments[0].ID, i, 0, -1); err != nil || !bytes.Equal(got, chunkOf(v2data, i)) {
			t.Errorf("chunk %d after recovery: %v", i, err)
		}
	}
}

// TestCacheMatchesDisk: after concurrent changes, listings served from the
// node's cache are what a freshly started node reads from disk.
func TestCacheMatchesDisk(t *testing.T) {
	n := startNode(t, nil)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := login(t, n.addr, "alice", "Crimson33")
			for i := 0; i < 20; i++ {
				p := fmt.Sprintf("d%d/f%d", w, i%7)
				m, _, err := c.upload(p, testData(100+i, byte(i)))
				if err != nil {
					t.Error(err)
					return
				}
				switch i % 5 {
				case 1:
					c.updateOp(wire.UpdateDelete, p, wire.Meta{Stamp: core.NewVersion()})
				case 2:
					c.call(wire.TypeRename, wire.RenameReq{From: p, To: p + "r", Stamp: core.NewVersion()}, nil)
				case 3:
					c.updateOp(wire.UpdateSetattr, p, wire.Meta{Stamp: core.NewVersion(), Version: m.Version, Mode: 0o640})
				case 4:
					c.call(wire.TypeRename, wire.RenameReq{From: fmt.Sprintf("d%d", w), To: fmt.Sprintf("e%d", w), Stamp: core.NewVersion()}, nil)
					c.call(wire.TypeRename, wire.RenameReq{From: fmt.Sprintf("e%d", w), To: fmt.Sprintf("d%d", w), Stamp: core.NewVersion()}, nil)
				}
				c.list("", true) // readers fill the cache meanwhile
			}
		}()
	}
	wg.Wait()
	c := login(t, n.addr, "alice", "Crimson33")
	_, warm, err := c.list("", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.call(wire.TypeSync, wire.SyncReq{}, nil); err != nil { // no flush runs while we copy
		t.Fatal(err)
	}
	m := startNode(t, func(c *Config) { c.Dir = crashCopy(t, n) })
	_, cold, err := login(t, m.addr, "alice", "Crimson33").list("", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(warm) != len(cold) {
		t.Fatalf("cache lists %d entries, disk %d", len(warm), len(cold))
	}
	for i := range warm {
		w, d := fmt.Sprintf("%+v", warm[i]), fmt.Sprintf("%+v", cold[i])
		if w != d {
			t.Errorf("cache %s\ndisk  %s", w, d)
		}
	}
}

// TestPutChunkSaysExists: an upload naming its entry learns whether the
// node holds a live one there (the client commits a new file everywhere at
// once, an existing one in two waves).
func TestPutChunkSaysExists(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	ask := func(p string) bool {
		t.Helper()
		data := []byte("abc")
		sum := sha256Hex(data)
		req := wire.PutChunkReq{Segment: testSeg, Upload: randHex(16), Chunk: 0, Size: 3, SHA256: sum, Inline: true, Path: p}
		if err := c.c.Send(wire.TypePutChunk, wire.StatusOK, req); err != nil {
			t.Fatal(err)
		}
		if _, err := c.c.SendStream(bytes.NewReader(data), make([]byte, 10)); err != nil {
			t.Fatal(err)
		}
		var resp wire.PutChunkResp
		if err := c.c.Recv(wire.TypePutChunk, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.SHA256 != sum {
			t.Fatalf("node hashed %s, sent %s", resp.SHA256, sum)
		}
		return resp.Exists
	}
	if ask("d/f") {
		t.Error("new name reported as existing")
	}
	if _, _, err := c.upload("d/f", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if !ask("d/f") || !ask("d") {
		t.Error("file or folder not reported")
	}
	if err := c.updateOp(wire.UpdateDelete, "d/f", wire.Meta{Stamp: core.NewVersion()}); err != nil {
		t.Fatal(err)
	}
	if ask("d/f") {
		t.Error("a tombstone reported as a live entry")
	}
}

// TestConditionalCommit: a commit sent right behind its upload applies only
// if the entry is new (New) and the upload's chunks arrived (Need); a
// refused one changes nothing.
func TestConditionalCommit(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	old, _, err := c.upload("f", []byte("old"))
	if err != nil {
		t.Fatal(err)
	}
	commit := func(p string, new bool, need []int, upload string, m wire.Meta) error {
		return c.call(wire.TypeCommit, wire.CommitReq{Path: p, Upload: upload, Meta: m, New: new, Need: need}, nil)
	}
	data := []byte("new content")
	up := randHex(16)
	seg := segmentOf(0, data)
	if err := c.put(up, seg.ID, 0, chunkOf(data, 0)); err != nil {
		t.Fatal(err)
	}
	m := fileMeta(int64(len(data)), []wire.Segment{seg})
	v := m.Version
	wantStatus(t, "new over an existing file", commit("f", true, []int{0}, up, m), wire.StatusExist)
	wantStatus(t, "a needed chunk missing", commit("g", true, []int{0, 1}, up, m), wire.StatusIncomplete)
	if ch := c.lookup("f"); len(ch) != 1 || ch[0].Version != old.Version {
		t.Fatalf("a refused commit changed f: %+v", ch)
	}
	if ch := c.lookup("g"); len(ch) != 0 {
		t.Fatalf("a refused commit made g: %+v", ch)
	}
	if err := commit("g", true, []int{0}, up, m); err != nil {
		t.Fatalf("new file with its chunk: %v", err)
	}
	if ch := c.lookup("g"); len(ch) != 1 || ch[0].Version != v {
		t.Fatalf("g after its commit: %+v", ch)
	}
}

// TestPutChunkTrailer: a chunk whose hash comes after its data is stored
// with that hash (checked by reads of the whole chunk), and a trailer
// missing or malformed closes the connection.
func TestPutChunkTrailer(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	data := testData(200<<10, 7)
	send := func(c *tclient, trailer any) error {
		up := randHex(16)
		req := wire.PutChunkReq{Segment: testSeg, Upload: up, Chunk: 0, Size: int64(len(data)), Trailer: true}
		if err := c.c.Send(wire.TypePutChunk, wire.StatusOK, req); err != nil {
			return err
		}
		if _, err := c.c.SendStream(bytes.NewReader(data), make([]byte, 64<<10)); err != nil {
			return err
		}
		if err := c.c.Send(wire.TypePutChunk, wire.StatusOK, trailer); err != nil {
			return err
		}
		var resp wire.PutChunkResp
		if err := c.c.Recv(wire.TypePutChunk, &resp); err != nil {
			return err
		}
		if resp.SHA256 != sha256Hex(data) {
			t.Errorf("reply hash %s", resp.SHA256)
		}
		return nil
	}
	if err := send(c, wire.PutChunkTrailer{SHA256: sha256Hex(data)}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "bad trailer", send(login(t, n.addr, "alice", "Crimson33"), wire.PutChunkTrailer{SHA256: "zz"}), wire.StatusBadRequest)
	wantStatus(t, "trailer with a hash given", c.call(wire.TypePutChunk, wire.PutChunkReq{Segment: testSeg, Upload: randHex(16), Size: 1, SHA256: sha256Hex([]byte("x")), Trailer: true}, nil), wire.StatusBadRequest)
}
