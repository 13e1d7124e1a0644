package node

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/wire"
	"dfs/node/store"
)

// TestSegmentsRoundTrip: files of no, one and many segments (the last one
// short) commit, list, look up and read back chunk by chunk, every chunk
// held.
func TestSegmentsRoundTrip(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	for _, size := range []int{0, 10, 100 << 10, int(core.SegmentSize), int(2*core.SegmentSize) + 12345} {
		data := testData(size, byte(size))
		p := fmt.Sprintf("d/f%d", size)
		m, held, err := c.upload(p, data)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if len(m.Segments) != int(core.NumSegments(int64(size))) || !bytes.Equal(held, allHeld(len(m.Segments))) {
			t.Fatalf("size %d: %d segments, held %v", size, len(m.Segments), held)
		}
		got, err := c.readAll(p, m)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back %d bytes, %v", size, len(got), err)
		}
		ch := c.lookup(p)
		last := ch[len(ch)-1]
		if last.Version != m.Version || len(last.Segments) != len(m.Segments) || !bytes.Equal(last.Held, allHeld(len(m.Segments))) {
			t.Fatalf("size %d: lookup %+v", size, last)
		}
	}
	_, ents, err := c.list("d", false)
	if err != nil || len(ents) != 5 {
		t.Fatalf("list: %d entries, %v", len(ents), err)
	}
	for _, e := range ents {
		if !bytes.Equal(e.Held, allHeld(len(e.Segments))) {
			t.Errorf("%s: held %v of %d segments", e.Path, e.Held, len(e.Segments))
		}
	}
}

// sharedVersion commits a new version of the file m at p (data its
// content) whose segment k is rewritten with fresh and the others are
// listed by id, sent no more.
func (c *tclient) sharedVersion(p string, m wire.Meta, k int64, fresh []byte) (wire.Meta, []uint8, error) {
	up := randHex(16)
	segs := slices.Clone(m.Segments)
	ns := segmentOf(k, fresh)
	for i := range segs {
		if segs[i].Index == k {
			segs[i] = ns
		}
	}
	if err := c.putSegment(up, ns, fresh); err != nil {
		return wire.Meta{}, nil, err
	}
	nm := fileMeta(m.Size, segs)
	nm.Born = m.Born
	held, err := c.commit(p, up, nm)
	return nm, held, err
}

// chunkStat returns the inode and modification time of every chunk file
// of segment id.
func chunkStat(t *testing.T, n *testNode, id string) [core.NumChunks][2]int64 {
	t.Helper()
	var out [core.NumChunks][2]int64
	for i := 0; i < core.NumChunks; i++ {
		fi, err := os.Stat(filepath.Join(n.dir, "users/alice", segFile(id, i)))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = [2]int64{int64(fi.Sys().(*syscall.Stat_t).Ino), fi.ModTime().UnixNano()}
	}
	return out
}

// used returns what INFO says the user holds on the node.
func (c *tclient) used() int64 {
	c.t.Helper()
	var r wire.InfoResp
	if err := c.call(wire.TypeInfo, wire.InfoReq{}, &r); err != nil {
		c.t.Fatal(err)
	}
	return int64(r.Used)
}

// segBytes is what the four chunk files of s take on the disk.
func segBytes(s wire.Segment) int64 {
	var n int64
	for _, ci := range s.Chunks {
		n += store.ChunkFileSize(ci.Size)
	}
	return n
}

// TestSharedSegmentsUntouched: a version that rewrites one segment of
// three shares the other two by id: their chunk files are the same files
// (inode and mtime), the new version reads back whole, the quota counts
// the shared segments once, and the released one goes with the sweep.
func TestSharedSegmentsUntouched(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	data := testData(int(2*core.SegmentSize)+1000, 1)
	m, _, err := c.upload("big", data)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string][core.NumChunks][2]int64{}
	for _, s := range m.Segments {
		before[s.ID] = chunkStat(t, n, s.ID)
	}
	total := segBytes(m.Segments[0]) + segBytes(m.Segments[1]) + segBytes(m.Segments[2])
	if u := c.used(); u != total {
		t.Fatalf("use %d, want %d", u, total)
	}
	time.Sleep(10 * time.Millisecond) // a rewrite would show in the mtime
	fresh := testData(int(core.SegmentSize), 9)
	m2, held, err := c.sharedVersion("big", m, 1, fresh)
	if err != nil || !bytes.Equal(held, allHeld(3)) {
		t.Fatalf("shared version: held %v, %v", held, err)
	}
	for _, i := range []int{0, 2} {
		if got := chunkStat(t, n, m.Segments[i].ID); got != before[m.Segments[i].ID] {
			t.Errorf("segment %d's chunk files changed: %v, were %v", i, got, before[m.Segments[i].ID])
		}
	}
	want := slices.Clone(data)
	copy(want[core.SegmentSize:], fresh)
	if got, err := c.readAll("big", m2); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("new version read back wrong: %v", err)
	}
	// The shared segments count once, the released one until the sweep.
	if u := c.used(); u != total+segBytes(m2.Segments[1]) {
		t.Errorf("use with a segment released: %d, want %d", u, total+segBytes(m2.Segments[1]))
	}
	if err := c.call(wire.TypeSync, wire.SyncReq{}, nil); err != nil {
		t.Fatal(err)
	}
	n.s.store.SweepReleased(time.Now())
	live := segBytes(m2.Segments[0]) + segBytes(m2.Segments[1]) + segBytes(m2.Segments[2])
	if u := c.used(); u != live {
		t.Errorf("use after the sweep: %d, want %d", u, live)
	}
	if _, err := c.get("big", m.Segments[1].ID, 0, 0, -1); status(err) != wire.StatusNotFound {
		t.Errorf("released segment served after the sweep: %v", err)
	}
	// A copy of the file under another name (the same segments listed by
	// a second record) costs nothing more; removing one keeps them.
	cp := fileMeta(m2.Size, m2.Segments)
	if held, err := c.commit("copy", "", cp); err != nil || !bytes.Equal(held, allHeld(3)) {
		t.Fatalf("copy: held %v, %v", held, err)
	}
	if u := c.used(); u != live {
		t.Errorf("use with a copy: %d, want %d", u, live)
	}
	if err := c.updateOp(wire.UpdateDelete, "big", wire.Meta{Stamp: core.NewVersion()}); err != nil {
		t.Fatal(err)
	}
	n.s.store.SweepReleased(time.Now().Add(time.Hour))
	if got, err := c.readAll("copy", cp); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("copy after the original went: %v", err)
	}
}

// TestReleasedGraceThenGone: a segment released by a rename over its file,
// a delete or an overwrite stays readable during the grace and is then
// swept by the node itself; what the user holds comes back to the live
// data.
func TestReleasedGraceThenGone(t *testing.T) {
	n := startNode(t, func(c *Config) { c.Grace = 300 * time.Millisecond })
	c := login(t, n.addr, "alice", "Crimson33")
	a, _, err := c.upload("a", testData(300<<10, 1))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := c.upload("b", testData(200<<10, 2))
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := c.upload("d", testData(100<<10, 3))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.call(wire.TypeRename, wire.RenameReq{From: "a", To: "b", Stamp: core.NewVersion()}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.updateOp(wire.UpdateDelete, "d", wire.Meta{Stamp: core.NewVersion()}); err != nil {
		t.Fatal(err)
	}
	e, _, err := c.upload("b", testData(50<<10, 4)) // overwrites what a became
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []wire.Meta{a, b, d} {
		if _, err := c.get("x", m.Segments[0].ID, 1, 0, -1); err != nil {
			t.Errorf("released segment %s not served during the grace: %v", m.Segments[0].ID, err)
		}
	}
	waitFor(t, "the sweep", func() bool { return c.used() == segBytes(e.Segments[0]) })
	for _, m := range []wire.Meta{a, b, d} {
		if _, err := c.get("x", m.Segments[0].ID, 1, 0, -1); status(err) != wire.StatusNotFound {
			t.Errorf("released segment %s served after the grace: %v", m.Segments[0].ID, err)
		}
	}
}

// TestRecoveryWalk: at start, chunk files of segments no record lists are
// deleted (a released segment whose sweep the stop cut short, a stray
// one), those of the segments listed are kept, and held is as before.
func TestRecoveryWalk(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	data := testData(int(core.SegmentSize)+5000, 1)
	m, _, err := c.upload("f", data)
	if err != nil {
		t.Fatal(err)
	}
	m2, _, err := c.sharedVersion("f", m, 1, testData(5000, 2))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.call(wire.TypeSync, wire.SyncReq{}, nil); err != nil {
		t.Fatal(err)
	}
	dir := crashCopy(t, n)
	stray := core.NewVersion()
	strayFile := filepath.Join(dir, "users/alice", segFile(stray, 2))
	os.MkdirAll(filepath.Dir(strayFile), 0o700)
	os.WriteFile(strayFile, []byte("not referenced"), 0o600)
	os.WriteFile(filepath.Join(dir, "users/alice", segFile(m.Segments[0].ID, 0)+".tmp-12"), []byte("junk"), 0o600)
	r := startNode(t, func(c *Config) { c.Dir = dir })
	rc := login(t, r.addr, "alice", "Crimson33")
	if exists(strayFile) || exists(filepath.Join(dir, "users/alice", segFile(m.Segments[0].ID, 0)+".tmp-12")) {
		t.Errorf("stray files kept")
	}
	for i := 0; i < core.NumChunks; i++ {
		if exists(filepath.Join(dir, "users/alice", segFile(m.Segments[1].ID, i))) {
			t.Errorf("chunk %d of the released segment kept", i)
		}
		for _, s := range m2.Segments {
			if !exists(filepath.Join(dir, "users/alice", segFile(s.ID, i))) {
				t.Errorf("chunk %d of live segment %d deleted", i, s.Index)
			}
		}
	}
	if ch := rc.lookup("f"); len(ch) != 1 || !bytes.Equal(ch[0].Held, allHeld(2)) {
		t.Fatalf("after the restart: %+v", ch)
	}
	want := slices.Clone(data)
	copy(want[core.SegmentSize:], testData(5000, 2))
	if got, err := rc.readAll("f", m2); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read back after the restart: %v", err)
	}
	if u := rc.used(); u != segBytes(m2.Segments[0])+segBytes(m2.Segments[1]) {
		t.Errorf("use after the restart: %d", u)
	}
}

// TestOldFormatRefused: a data folder of the whole-file format (no FORMAT,
// a users folder), of the plaintext segments format (2) or of an unknown
// format is refused with a message that says so, and nothing in it is
// touched; an empty one gets FORMAT.
func TestOldFormatRefused(t *testing.T) {
	old := t.TempDir()
	os.MkdirAll(filepath.Join(old, "users/alice/files/f"), 0o700)
	os.WriteFile(filepath.Join(old, "users/alice/files/f/@meta"), []byte(`{"stamp":"x"}`), 0o600)
	os.WriteFile(filepath.Join(old, "node.key"), []byte("k"), 0o600)
	cfg := Config{Dir: old, Users: &fakeUsers{m: map[string]string{}}}
	_, err := New(cfg)
	if err == nil || !errors.Is(err, store.ErrFormat) || !strings.Contains(err.Error(), "older dfs format (whole-file, format 1)") ||
		!strings.Contains(err.Error(), "move the folder aside and start with an empty one") {
		t.Fatalf("old folder: %v", err)
	}
	if exists(filepath.Join(old, "FORMAT")) || !exists(filepath.Join(old, "users/alice/files/f/@meta")) {
		t.Errorf("the old folder was changed")
	}
	two := t.TempDir()
	os.MkdirAll(filepath.Join(two, "users/alice/files/f"), 0o700)
	os.WriteFile(filepath.Join(two, "FORMAT"), []byte("dfs data format 2 (segments)\n"), 0o600)
	cfg.Dir = two
	_, err = New(cfg)
	if err == nil || !errors.Is(err, store.ErrFormat) ||
		!strings.Contains(err.Error(), "holds data of format 2, which this node cannot read: no user data of format 2 can be converted without the users' passwords") ||
		!strings.Contains(err.Error(), "move it aside") {
		t.Fatalf("format 2 folder: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(two, "FORMAT")); string(b) != "dfs data format 2 (segments)\n" || !exists(filepath.Join(two, "users/alice/files/f")) {
		t.Errorf("the format 2 folder was changed")
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "FORMAT"), []byte("dfs data format 4 (future)\n"), 0o600)
	cfg.Dir = other
	if _, err := New(cfg); err == nil || !errors.Is(err, store.ErrFormat) || !strings.Contains(err.Error(), "format 4") {
		t.Fatalf("unknown format: %v", err)
	}
	n := startNode(t, nil)
	if b, err := os.ReadFile(filepath.Join(n.dir, "FORMAT")); err != nil || string(b) != store.FormatLine {
		t.Fatalf("new folder's FORMAT: %q %v", b, err)
	}
}

// TestHeldPerSegment: after a chunk of one segment is quarantined, held
// says so for that segment alone, in COMMIT's reply (a heal's same-stamp
// commit), LOOKUP and LIST; the heal's commit bringing the chunk back
// makes it whole again.
func TestHeldPerSegment(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	data := testData(int(core.SegmentSize)+300<<10, 5)
	m, _, err := c.upload("f", data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.s.store.User("alice"); err != nil {
		t.Fatal(err)
	}
	u, _ := n.s.userDir("alice")
	if _, err := u.Quarantine(m.Segments[1].ID, 2, nil); err != nil {
		t.Fatal(err)
	}
	want := []uint8{0xf, 0b1011}
	if ch := c.lookup("f"); !bytes.Equal(ch[0].Held, want) {
		t.Errorf("lookup held %v, want %v", ch[0].Held, want)
	}
	if _, ents, err := c.list("", false); err != nil || !bytes.Equal(ents[0].Held, want) {
		t.Errorf("list held %v, %v", ents[0].Held, err)
	}
	if held, err := c.commit("f", "", m); err != nil || !bytes.Equal(held, want) {
		t.Errorf("same-stamp commit without the chunk: held %v, %v", held, err)
	}
	// Heal: the chunk under a new upload, committed with the same stamp.
	up := randHex(16)
	b, e := core.SegmentSpan(m.Size, 1)
	if err := c.put(up, m.Segments[1].ID, 2, chunkOf(data[b:e], 2)); err != nil {
		t.Fatal(err)
	}
	var resp wire.CommitResp
	if err := c.call(wire.TypeCommit, wire.CommitReq{Path: "f", Upload: up, Meta: m, Need: []int{4*1 + 2}}, &resp); err != nil || !bytes.Equal(resp.Held, allHeld(2)) {
		t.Fatalf("heal commit: held %v, %v", resp.Held, err)
	}
	if got, err := c.readAll("f", m); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after the heal: %v", err)
	}
}

// TestCommitChecksSegments: a commit whose segment list does not describe
// its size (chunk sizes without the encryption's overhead included), or
// whose need names a chunk past its segments, is a bad request that changes
// nothing.
func TestCommitChecksSegments(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	m, up, err := c.sendChunks(testData(1000, 1))
	if err != nil {
		t.Fatal(err)
	}
	bad := m
	bad.Segments = slices.Clone(m.Segments)
	bad.Segments[0].Index = 1
	wantStatus(t, "a segment past the end", c.call(wire.TypeCommit, wire.CommitReq{Path: "f", Upload: up, Meta: bad}, nil), wire.StatusBadRequest)
	bad.Segments[0].Index, bad.Segments[0].ID = 0, "../../x"
	wantStatus(t, "a bad segment id", c.call(wire.TypeCommit, wire.CommitReq{Path: "f", Upload: up, Meta: bad}, nil), wire.StatusBadRequest)
	bad.Segments = []wire.Segment{m.Segments[0], m.Segments[0]}
	bad.Segments[1].Index, bad.Size = 1, core.SegmentSize+m.Size
	wantStatus(t, "one segment id twice", c.call(wire.TypeCommit, wire.CommitReq{Path: "f", Upload: up, Meta: bad}, nil), wire.StatusBadRequest)
	wantStatus(t, "need past the segments", c.call(wire.TypeCommit, wire.CommitReq{Path: "f", Upload: up, Meta: m, Need: []int{4}}, nil), wire.StatusBadRequest)
	// Chunks are stored encrypted: their sizes include the overhead.
	bad.Segments, bad.Size = slices.Clone(m.Segments), m.Size
	for c := range bad.Segments[0].Chunks {
		bad.Segments[0].Chunks[c].Size -= core.ChunkOverhead
	}
	wantStatus(t, "plaintext chunk sizes", c.call(wire.TypeCommit, wire.CommitReq{Path: "f", Upload: up, Meta: bad}, nil), wire.StatusBadRequest)
	if ch := c.lookup("f"); len(ch) != 0 {
		t.Fatalf("a refused commit made f: %+v", ch)
	}
	if _, err := c.commit("f", up, m); err != nil {
		t.Fatal(err)
	}
}

// TestGetStaged: a writer reads back a chunk it staged and has not
// committed (GET_CHUNK with the upload), and another upload's id finds
// nothing.
func TestGetStaged(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	data := testData(300<<10, 6)
	m, up, err := c.sendChunks(data)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Segments[0]
	b, e := core.ChunkBounds(s.Size, 1)
	got, err := c.getChunk(wire.GetChunkReq{Upload: up, Segment: s.ID, Chunk: 1, Offset: 10, Length: 1000})
	if err != nil || !bytes.Equal(got, data[b+10:b+1010]) {
		t.Fatalf("staged chunk: %v", err)
	}
	_, err = c.getChunk(wire.GetChunkReq{Upload: randHex(16), Segment: s.ID, Chunk: 1, Length: -1})
	wantStatus(t, "another upload", err, wire.StatusNotFound)
	_, err = c.getChunk(wire.GetChunkReq{Segment: s.ID, Chunk: 1, Length: -1})
	wantStatus(t, "not committed yet", err, wire.StatusNotFound)
	_, err = c.getChunk(wire.GetChunkReq{Upload: "../x", Segment: s.ID, Chunk: 1, Length: -1})
	wantStatus(t, "a bad upload id", err, wire.StatusBadRequest)
	_ = e
}
