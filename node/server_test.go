package node

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/wire"
	"dfs/node/store"
)

func TestAuth(t *testing.T) {
	n := startNode(t, nil)
	c := dial(t, n.addr)
	var resp wire.AuthResp
	if err := c.call(wire.TypeAuth, wire.AuthReq{User: "alice", Proof: prove(c.nc, "alice", "Crimson33")}, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Node != "DFS1" || resp.Version == "" {
		t.Errorf("AuthResp %+v", resp)
	}
	var msgs []string
	for _, u := range []string{"alice", "nobody"} {
		c := dial(t, n.addr)
		err := c.auth(u, "wrong")
		wantStatus(t, "auth "+u, err, wire.StatusAuthFailed)
		msgs = append(msgs, err.(*wire.RemoteError).Message)
		if _, _, err := c.c.ReadRequest(); err == nil {
			t.Errorf("connection still open after failed auth")
		}
	}
	if msgs[0] != msgs[1] || msgs[0] != "Invalid Username/Password. Please try again." {
		t.Errorf("messages differ or wrong: %q", msgs)
	}
	c = dial(t, n.addr)
	err := c.call(wire.TypeList, wire.ListReq{}, nil)
	wantStatus(t, "request before auth", err, wire.StatusAuthFailed)
	if !strings.Contains(err.Error(), "authenticate first") {
		t.Errorf("got %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	data := testData(300<<10+3, 1)
	m, held, err := c.upload("docs/a/@x.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(held, []uint8{0xf}) {
		t.Fatalf("held %v", held)
	}
	sid := m.Segments[0].ID
	// The "@" component is escaped on disk; after a flush the meta is
	// durable as @meta.
	if err := n.s.store.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(n.dir, "users/alice/files/docs/a/@@x.txt/@meta")); err != nil {
		t.Fatal(err)
	}
	if got, err := c.readAll("docs/a/@x.txt", m); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("data differs: %v", err)
	}
	s0, e0 := core.ChunkBounds(int64(len(data)), 0)
	b, err := c.get("docs/a/@x.txt", sid, 0, 65530, 10000)
	if err != nil || !bytes.Equal(b, data[s0+65530:s0+65530+10000]) {
		t.Fatalf("range get: %v (%d bytes)", err, len(b))
	}
	b, err = c.get("docs/a/@x.txt", sid, 0, e0-s0+core.ChunkOverhead, -1)
	if err != nil || len(b) != 0 {
		t.Fatalf("get at end: %v %d", err, len(b))
	}
	_, err = c.get("docs/a/@x.txt", core.NewVersion(), 0, 0, -1)
	wantStatus(t, "get another segment", err, wire.StatusNotFound)

	chain, ents, err := c.list("", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 0 || !slices.Equal(paths(ents), []string{"docs", "docs/a", "docs/a/@x.txt"}) {
		t.Fatalf("list: chain %v entries %v", paths(chain), paths(ents))
	}
	chain, ents, err = c.list("docs/a", false)
	if err != nil || !slices.Equal(paths(chain), []string{"docs", "docs/a"}) || !slices.Equal(paths(ents), []string{"docs/a/@x.txt"}) {
		t.Fatalf("list docs/a: %v %v %v", err, paths(chain), paths(ents))
	}
	if e := ents[0]; e.Version != m.Version || e.Size != m.Size || !reflect.DeepEqual(e.Segments, m.Segments) || !bytes.Equal(e.Held, []uint8{0xf}) {
		t.Errorf("entry %+v", e)
	}
	_, _, err = c.list("docs/a/@x.txt", false)
	wantStatus(t, "list a file", err, wire.StatusNotDir)
	_, _, err = c.list("nope", false)
	wantStatus(t, "list missing", err, wire.StatusNotFound)
	if ch := c.lookup("docs/a/@x.txt/more"); !slices.Equal(paths(ch), []string{"docs", "docs/a", "docs/a/@x.txt"}) {
		t.Errorf("lookup chain %v", paths(ch))
	}
	if ch := c.lookup(""); len(ch) != 0 {
		t.Errorf("lookup root %v", ch)
	}

	// Stale commit: an older stamp than the entry's.
	old := m
	old.Stamp = "0000000000000001deadbeef"
	up := randHex(16)
	if err := c.put(up, testSeg, 0, data[:m.Segments[0].Chunks[0].Size]); err != nil {
		t.Fatal(err)
	}
	err = c.call(wire.TypeCommit, wire.CommitReq{Path: "docs/a/@x.txt", Upload: up, Meta: old}, nil)
	wantStatus(t, "stale commit", err, wire.StatusStale)
	if _, err := os.Stat(filepath.Join(n.dir, "users/alice/staging", up+"."+testSeg+".c0")); !os.IsNotExist(err) {
		t.Errorf("staged chunk of a stale commit left: %v", err)
	}
	// A newer version with other content lists a new segment.
	m2, _, err := c.upload("docs/a/@x.txt", data[:10])
	if err != nil {
		t.Fatal(err)
	}
	// The released segment stays readable for a grace period (readers in
	// the middle of it), then the sweeper removes it.
	if _, err := c.get("docs/a/@x.txt", sid, 0, 0, -1); err != nil {
		t.Errorf("released segment not served during its grace period: %v", err)
	}
	if err := n.s.store.Sync(); err != nil { // @meta.new becomes @meta
		t.Fatal(err)
	}
	dir := filepath.Join(n.dir, "users/alice/files/docs/a/@@x.txt")
	if names, _ := os.ReadDir(dir); len(names) != 1 {
		t.Errorf("entry dir holds %d files, want only @meta", len(names))
	}
	user := filepath.Join(n.dir, "users/alice")
	for i := 0; i < core.NumChunks; i++ {
		if !exists(filepath.Join(user, segFile(sid, i))) || !exists(filepath.Join(user, segFile(m2.Segments[0].ID, i))) {
			t.Errorf("chunk %d of the released or the new segment missing", i)
		}
	}
	n.s.store.SweepReleased(time.Now())
	if _, err := c.get("docs/a/@x.txt", sid, 0, 0, -1); status(err) != wire.StatusNotFound {
		t.Errorf("released segment still served after the sweep: %v", err)
	}
	for i := 0; i < core.NumChunks; i++ {
		if exists(filepath.Join(user, segFile(sid, i))) || !exists(filepath.Join(user, segFile(m2.Segments[0].ID, i))) {
			t.Errorf("after the sweep: chunk %d of the released segment kept or of the new one gone", i)
		}
	}
	// Committing over a folder.
	_, _, err = c.upload("docs", data[:4])
	wantStatus(t, "commit over folder", err, wire.StatusIsDir)
}

func TestPutChunkErrors(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	login(t, n.addr, "alice", "Crimson33") // keeps alice's uploads once c is closed
	// Wrong SHA-256: corrupt, connection still usable.
	req := wire.PutChunkReq{Segment: testSeg, Upload: randHex(16), Chunk: 1, Size: 3, SHA256: strings.Repeat("00", 32)}
	if err := c.c.Send(wire.TypePutChunk, wire.StatusOK, req); err != nil {
		t.Fatal(err)
	}
	if _, err := c.c.SendStream(strings.NewReader("abc"), make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "bad sha", c.c.Recv(wire.TypePutChunk, nil), wire.StatusCorrupt)
	if err := c.put(randHex(16), testSeg, 2, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	// Invalid upload id: bad request and close.
	err := c.call(wire.TypePutChunk, wire.PutChunkReq{Segment: testSeg, Upload: "../../x", Chunk: 0, SHA256: strings.Repeat("00", 32)}, nil)
	wantStatus(t, "bad upload id", err, wire.StatusBadRequest)
	ents, _ := os.ReadDir(filepath.Join(n.dir, "users/alice/staging"))
	if len(ents) != 1 {
		t.Errorf("staging holds %d files, want 1", len(ents))
	}
}

func TestDeleteRmdir(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	m, _, err := c.upload("d/f", []byte("content"))
	if err != nil {
		t.Fatal(err)
	}
	st := core.NewVersion()
	wantStatus(t, "rmdir not empty", c.updateOp(wire.UpdateRmdir, "d", wire.Meta{Stamp: st}), wire.StatusNotEmpty)
	wantStatus(t, "delete stale", c.updateOp(wire.UpdateDelete, "d/f", wire.Meta{Stamp: m.Stamp}), wire.StatusStale)
	wantStatus(t, "delete folder", c.updateOp(wire.UpdateDelete, "d", wire.Meta{Stamp: st}), wire.StatusIsDir)
	if err := c.updateOp(wire.UpdateDelete, "d/f", wire.Meta{Stamp: st}); err != nil {
		t.Fatal(err)
	}
	ch := c.lookup("d/f")
	if len(ch) != 2 || !ch[1].Deleted || ch[1].Stamp != st || ch[1].Born != m.Born || ch[1].Dir {
		t.Fatalf("tombstone %+v", ch)
	}
	// A reader in the middle of the deleted file finishes it (the chunks
	// are set aside for the grace period), then they are gone.
	sid := m.Segments[0].ID
	if _, err := c.get("d/f", sid, 0, 0, -1); err != nil {
		t.Errorf("deleted version not served during its grace period: %v", err)
	}
	if err := n.s.store.Sync(); err != nil {
		t.Fatal(err)
	}
	n.s.store.SweepReleased(time.Now())
	names, _ := os.ReadDir(filepath.Join(n.dir, "users/alice/files/d/f"))
	if len(names) != 1 {
		t.Errorf("entry dir holds %d files, want only @meta", len(names))
	}
	for i := 0; i < core.NumChunks; i++ {
		if exists(filepath.Join(n.dir, "users/alice", segFile(sid, i))) {
			t.Errorf("chunk %d left after delete and sweep", i)
		}
	}
	if _, err := c.get("d/f", sid, 0, 0, -1); status(err) != wire.StatusNotFound {
		t.Errorf("get deleted: %v", err)
	}
	st2 := core.NewVersion()
	if err := c.updateOp(wire.UpdateRmdir, "d", wire.Meta{Stamp: st2}); err != nil {
		t.Fatal(err)
	}
	if ch := c.lookup("d"); !ch[0].Deleted || !ch[0].Dir {
		t.Errorf("folder tombstone %+v", ch[0])
	}
	// Tombstones on a node that never had the path.
	st3 := core.NewVersion()
	if err := c.updateOp(wire.UpdateDelete, "x/y/z", wire.Meta{Stamp: st3}); err != nil {
		t.Fatal(err)
	}
	if ch := c.lookup("x/y/z"); len(ch) != 3 || !ch[2].Deleted || !ch[0].Dir || ch[0].Deleted {
		t.Errorf("chain %+v", ch)
	}
	// A commit under the folder tombstone, older than it, is stale.
	_, _, err = c.upload("d/g", []byte("x"))
	if err != nil {
		t.Fatalf("commit newer than tombstone: %v", err)
	}
	// mkdir resurrects, setattr changes mode.
	st4 := core.NewVersion()
	wantStatus(t, "mkdir existing", c.updateOp(wire.UpdateMkdir, "d", wire.Meta{Stamp: st4, Mode: 0o700}), wire.StatusExist)
	if err := c.updateOp(wire.UpdateMkdir, "x/y/z", wire.Meta{Stamp: st4, Born: st4, Mode: 0o700}); err != nil {
		t.Fatal(err)
	}
	st5 := core.NewVersion()
	if err := c.updateOp(wire.UpdateSetattr, "x/y/z", wire.Meta{Stamp: st5, Mode: 0o750, MTime: 42}); err != nil {
		t.Fatal(err)
	}
	if ch := c.lookup("x/y/z"); ch[2].Deleted || !ch[2].Dir || ch[2].Mode != 0o750 || ch[2].MTime != 42 || ch[2].Born != st4 {
		t.Errorf("after mkdir+setattr %+v", ch[2])
	}
	wantStatus(t, "setattr missing", c.updateOp(wire.UpdateSetattr, "nope", wire.Meta{Stamp: st5}), wire.StatusNotFound)
	// Purge removes the tombstone only with the right stamp.
	if err := c.call(wire.TypePurge, wire.PurgeReq{Path: "d/f", Stamp: st2}, nil); err != nil {
		t.Fatal(err)
	}
	if ch := c.lookup("d/f"); len(ch) != 2 {
		t.Errorf("purge with wrong stamp removed it")
	}
	if err := c.call(wire.TypePurge, wire.PurgeReq{Path: "d/f", Stamp: st}, nil); err != nil {
		t.Fatal(err)
	}
	if ch := c.lookup("d/f"); len(ch) != 1 {
		t.Errorf("purge left %+v", ch)
	}
	// A live entry goes only by a purge of a forgery (one the client found
	// failing authentication), and only with its stamp.
	if _, _, err := c.upload("d/g", []byte("forged")); err != nil {
		t.Fatal(err)
	}
	g := c.lookup("d/g")[1]
	for _, req := range []wire.PurgeReq{{Path: "d/g", Stamp: g.Stamp}, {Path: "d/g", Stamp: st, Forged: true}} {
		if err := c.call(wire.TypePurge, req, nil); err != nil {
			t.Fatal(err)
		}
		if ch := c.lookup("d/g"); len(ch) != 2 || ch[1].Deleted {
			t.Errorf("purge %+v removed a live entry: %+v", req, ch)
		}
	}
	if err := c.call(wire.TypePurge, wire.PurgeReq{Path: "d/g", Stamp: g.Stamp, Forged: true}, nil); err != nil {
		t.Fatal(err)
	}
	if ch := c.lookup("d/g"); len(ch) != 1 {
		t.Errorf("purge of a forgery left %+v", ch)
	}
}

// TestUnknownUpdate: an update of a kind the node does not know is a bad
// request, but only once the entry's stamp was found older: a stale one is
// stale whatever its kind.
func TestUnknownUpdate(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	m, _, err := c.upload("f", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	err = c.updateOp("chown", "f", wire.Meta{Stamp: core.NewVersion()})
	wantStatus(t, "unknown update", err, wire.StatusBadRequest)
	if !strings.Contains(err.Error(), `unknown update "chown"`) {
		t.Errorf("got %v", err)
	}
	wantStatus(t, "unknown stale update", c.updateOp("chown", "f", wire.Meta{Stamp: m.Stamp}), wire.StatusStale)
}

func TestRename(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	m, _, err := c.upload("a/f", []byte("file one"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.upload("a/sub/g", []byte("file two")); err != nil {
		t.Fatal(err)
	}
	st := core.NewVersion()
	if err := c.call(wire.TypeRename, wire.RenameReq{From: "a/f", To: "b/f2", Stamp: st}, nil); err != nil {
		t.Fatal(err)
	}
	ch := c.lookup("b/f2")
	if len(ch) != 2 || ch[1].Stamp != st || ch[1].Born != m.Born || ch[1].Version != m.Version {
		t.Fatalf("moved %+v", ch)
	}
	if got, err := c.get("b/f2", m.Segments[0].ID, 3, 0, -1); err != nil || !bytes.Equal(got, chunkOf([]byte("file one"), 3)) {
		t.Fatalf("get moved: %q %v", got, err)
	}
	if ch := c.lookup("a/f"); !ch[1].Deleted || ch[1].Born != st {
		t.Errorf("tombstone %+v", ch[1])
	}
	wantStatus(t, "stale rename", c.call(wire.TypeRename, wire.RenameReq{From: "b/f2", To: "c", Stamp: st}, nil), wire.StatusStale)
	wantStatus(t, "into itself", c.call(wire.TypeRename, wire.RenameReq{From: "a", To: "a/x", Stamp: core.NewVersion()}, nil), wire.StatusBadRequest)
	st2 := core.NewVersion()
	if err := c.call(wire.TypeRename, wire.RenameReq{From: "a", To: "z/a2", Stamp: st2}, nil); err != nil {
		t.Fatal(err)
	}
	_, ents, err := c.list("z", true)
	if err != nil || !slices.Equal(paths(ents), []string{"z/a2", "z/a2/f", "z/a2/sub", "z/a2/sub/g"}) {
		t.Fatalf("moved tree: %v %v", err, paths(ents))
	}
	if ch := c.lookup("a"); len(ch) != 1 || !ch[0].Deleted || !ch[0].Dir {
		t.Errorf("folder tombstone %+v", ch)
	}
	// From missing: only the tombstone.
	st3 := core.NewVersion()
	if err := c.call(wire.TypeRename, wire.RenameReq{From: "ghost", To: "q", Stamp: st3}, nil); err != nil {
		t.Fatal(err)
	}
	if ch := c.lookup("ghost"); len(ch) != 1 || !ch[0].Deleted {
		t.Errorf("ghost %+v", ch)
	}
	if ch := c.lookup("q"); len(ch) != 0 {
		t.Errorf("q created: %+v", ch)
	}
}

func TestCorruptChunk(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	data := testData(1<<20, 3)
	m, _, err := c.upload("f", data)
	if err != nil {
		t.Fatal(err)
	}
	sid := m.Segments[0].ID
	// Flip a byte in the second block of chunk 1 and in the header of chunk 2.
	flip := func(ch int, off int64) {
		p := filepath.Join(n.dir, "users/alice", segFile(sid, ch))
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		b := []byte{0}
		f.ReadAt(b, off)
		b[0] ^= 0x40
		f.WriteAt(b, off)
		f.Close()
	}
	flip(1, store.ChunkHeaderSize+store.BlockSize+4+10)
	flip(2, 3)
	_, err = c.get("f", sid, 1, 0, -1)
	wantStatus(t, "corrupt block", err, wire.StatusCorrupt)
	_, err = c.get("f", sid, 2, 0, 100)
	wantStatus(t, "corrupt header", err, wire.StatusCorrupt)
	// The connection is still usable and the chunk is gone.
	_, err = c.get("f", sid, 1, 0, -1)
	wantStatus(t, "quarantined", err, wire.StatusNotFound)
	if b, err := c.get("f", sid, 0, 0, -1); err != nil || len(b) != 1<<18+core.ChunkOverhead {
		t.Fatalf("good chunk: %v", err)
	}
	q, _ := os.ReadDir(filepath.Join(n.dir, "users/alice/quarantine"))
	if len(q) != 2 || q[0].Name() != sid+".c1" || q[1].Name() != sid+".c2" {
		t.Fatalf("quarantine %v", q)
	}
	if ch := c.lookup("f"); !bytes.Equal(ch[0].Held, []uint8{0b1001}) {
		t.Errorf("held %v", ch[0].Held)
	}
	var info wire.InfoResp
	if err := c.call(wire.TypeInfo, wire.InfoReq{}, &info); err != nil || info.Quarantine != 2 || info.TotalBytes == 0 {
		t.Errorf("info %+v %v", info, err)
	}
	// Scan and scrub find a bad chunk 3.
	flip(3, store.ChunkHeaderSize+5)
	var scan wire.ScanResp
	if err := c.call(wire.TypeScan, wire.ScanReq{}, &scan); err != nil || scan.Checked != 2 || len(scan.Bad) != 1 {
		t.Fatalf("scan %+v %v", scan, err)
	}
	flip(0, store.ChunkHeaderSize+1<<18-1)
	rep, err := n.s.Scrub(t.Context())
	if err != nil || rep.Checked != 1 || !slices.Equal(rep.Bad, []string{"alice:" + sid + ".c0"}) {
		t.Fatalf("scrub %+v %v", rep, err)
	}
}

func TestScrubDir(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "bob", "Velvet77")
	if _, _, err := c.upload("a/b", testData(5000, 9)); err != nil {
		t.Fatal(err)
	}
	rep, err := store.ScrubDir(t.Context(), n.dir, nil)
	if err != nil || rep.Checked != core.NumChunks || rep.Bytes != 5000+core.NumChunks*core.ChunkOverhead || len(rep.Bad) != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	// Rate limited: 5112 bytes at 10000 B/s take about half a second.
	start := time.Now()
	u, err := n.s.userDir("bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Scrub(t.Context(), 10000); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("rate-limited scrub took %v", d)
	}
}

func TestHostileNames(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	long := strings.Repeat("x", 256)
	for _, p := range []string{"..", "a/../../b", "/etc/passwd", "a\x00b", long, "a//b", "."} {
		_, _, err := c.upload(p, []byte("x"))
		wantStatus(t, "commit "+p, err, wire.StatusBadRequest)
		_, _, err = c.list(p, false)
		wantStatus(t, "list "+p, err, wire.StatusBadRequest)
	}
	// A symlink planted in the user's folder pointing outside.
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "@meta"), []byte(`{"stamp":"x","dir":true}`), 0o644)
	if err := os.Symlink(outside, filepath.Join(n.dir, "users/alice/files/evil")); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.upload("evil/f", []byte("x"))
	wantStatus(t, "commit through symlink", err, wire.StatusBadRequest)
	_, _, err = c.list("evil", false)
	wantStatus(t, "list symlink", err, wire.StatusBadRequest)
	err = c.updateOp(wire.UpdateMkdir, "evil/d", wire.Meta{Stamp: core.NewVersion()})
	wantStatus(t, "mkdir through symlink", err, wire.StatusBadRequest)
	if ents, _ := os.ReadDir(outside); len(ents) != 1 {
		t.Errorf("something was written outside: %v", ents)
	}
	_, ents, err := c.list("", true)
	if err != nil || len(ents) != 0 {
		t.Errorf("list root: %v %v", err, paths(ents))
	}
}

func TestUsersIsolated(t *testing.T) {
	n := startNode(t, nil)
	a := login(t, n.addr, "alice", "Crimson33")
	m, _, err := a.upload("secret", []byte("alice's"))
	if err != nil {
		t.Fatal(err)
	}
	b := login(t, n.addr, "bob", "Velvet77")
	_, ents, err := b.list("", true)
	if err != nil || len(ents) != 0 {
		t.Fatalf("bob sees %v %v", paths(ents), err)
	}
	_, err = b.get("secret", m.Version, 0, 0, -1)
	wantStatus(t, "bob gets alice's", err, wire.StatusNotFound)
	_, _, err = b.list("../alice/files", false)
	wantStatus(t, "bob climbs", err, wire.StatusBadRequest)
}

func TestGarbage(t *testing.T) {
	n := startNode(t, nil)
	send := func(raw []byte) {
		c := dial(t, n.addr)
		c.nc.Write(raw)
		c.nc.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, c.nc); err != nil {
			t.Errorf("server did not close: %v", err)
		}
	}
	send([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	huge := make([]byte, 8)
	wire.EncodeHeader(huge, wire.Header{Type: wire.TypeAuth, Len: 1 << 31})
	send(huge)
	// Truncated frame: header promises more than arrives, then EOF.
	c := dial(t, n.addr)
	wire.EncodeHeader(huge, wire.Header{Type: wire.TypeAuth, Len: 100})
	c.nc.Write(append(huge, `{"user":`...))
	c.nc.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, c.nc)
	// After auth: a huge declared frame, a truncated frame, bad JSON.
	for _, raw := range [][]byte{
		func() []byte {
			b := make([]byte, 8)
			wire.EncodeHeader(b, wire.Header{Type: wire.TypeList, Len: 1 << 30})
			return b
		}(),
		func() []byte {
			b := make([]byte, 8, 20)
			wire.EncodeHeader(b, wire.Header{Type: wire.TypeList, Len: 100})
			return append(b, "{}"...)
		}(),
		func() []byte {
			b := make([]byte, 8)
			wire.EncodeHeader(b, wire.Header{Type: wire.TypeList, Len: 5})
			return append(b, "{{{{{"...)
		}(),
		{1, 99, 0, 0, 0, 0, 0, 0},
		{1, byte(wire.TypeData), 0, 0, 0, 0, 0, 1, 'x'},
	} {
		c := login(t, n.addr, "alice", "Crimson33")
		c.nc.Write(raw)
		c.nc.(*net.TCPConn).CloseWrite()
		c.nc.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, c.nc); err != nil {
			t.Errorf("server did not close after %q: %v", raw, err)
		}
	}
	c = login(t, n.addr, "alice", "Crimson33")
	if _, _, err := c.list("", false); err != nil {
		t.Fatal(err)
	}
}

func TestMaxConns(t *testing.T) {
	n := startNode(t, func(c *Config) { c.MaxConns = 3 })
	a := login(t, n.addr, "alice", "Crimson33")
	var idle []*tclient
	for i := 0; i < 5; i++ {
		idle = append(idle, dial(t, n.addr))
		time.Sleep(20 * time.Millisecond)
	}
	// The oldest idle ones were closed to make room; the authenticated one lives.
	for i, c := range idle[:3] {
		c.nc.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.nc.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("idle conn %d: %v, want EOF", i, err)
		}
	}
	if _, _, err := a.list("", false); err != nil {
		t.Fatal(err)
	}
	login(t, n.addr, "bob", "Velvet77")
	login(t, n.addr, "bob", "Velvet77")
	for i, c := range idle[3:] {
		if _, err := c.nc.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("idle conn %d: %v, want EOF", i+3, err)
		}
	}
	// All three slots are authenticated now: a new connection is refused.
	c := dial(t, n.addr)
	if err := c.auth("bob", "Velvet77"); err == nil {
		t.Error("fourth connection served")
	}
}

func TestIdleAndAuthTimeout(t *testing.T) {
	n := startNode(t, func(c *Config) { c.AuthTimeout = 200 * time.Millisecond; c.IdleTimeout = 300 * time.Millisecond })
	c := dial(t, n.addr)
	start := time.Now()
	io.Copy(io.Discard, c.nc)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("auth timeout took %v", d)
	}
	a := login(t, n.addr, "alice", "Crimson33")
	time.Sleep(500 * time.Millisecond)
	if _, _, err := a.list("", false); err == nil {
		t.Error("idle connection still served")
	}
}

func TestCloseStopsEverything(t *testing.T) {
	dir := t.TempDir()
	s, err := New(Config{Dir: dir, Users: &fakeUsers{m: map[string]string{"alice": "pw"}}, ScrubRate: 1 << 20, ScrubEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	done := make(chan error)
	go func() { done <- s.Serve(ln) }()
	a := login(t, ln.Addr().String(), "alice", "pw")
	dial(t, ln.Addr().String())
	_ = a
	time.Sleep(50 * time.Millisecond)
	s.Close()
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	buf := make([]byte, 1<<20)
	for i := 0; ; i++ {
		st := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(st, "dfs/node.(*Server)") && !strings.Contains(st, "dfs/node.(*session)") {
			break
		}
		if i > 50 {
			t.Fatalf("goroutines left:\n%s", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTLS(t *testing.T) {
	cert, err := wire.LoadOrCreateCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fp, _ := wire.CertFingerprint(cert)
	dir := t.TempDir()
	s, err := New(Config{Dir: dir, Users: &fakeUsers{m: map[string]string{"alice": "pw"}}, TLS: wire.ServerTLS(cert)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := wire.Listen("127.0.0.1:0", wire.ServerTLS(cert))
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Close()
	nc, err := wire.Dial(t.Context(), ln.Addr().String(), wire.ClientTLS("DFS1", ln.Addr().String(), fp))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := &tclient{t: t, nc: nc, c: wire.NewConn(nc)}
	if err := c.auth("alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.upload("x", []byte("over tls")); err != nil {
		t.Fatal(err)
	}
}

func TestListBatches(t *testing.T) {
	n := startNode(t, func(c *Config) { c.listBatch = 1000 })
	c := login(t, n.addr, "alice", "Crimson33")
	st := core.NewVersion()
	if err := c.updateOp(wire.UpdateMkdir, "big", wire.Meta{Stamp: st}); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(n.dir, "users/alice/files/big")
	for i := 0; i < 2500; i++ {
		d := filepath.Join(base, "e"+strconv.Itoa(i))
		os.Mkdir(d, 0o700)
		os.WriteFile(filepath.Join(d, "@meta"), []byte(`{"stamp":"`+st+`","born":"`+st+`","deleted":true}`), 0o600)
	}
	if err := c.c.Send(wire.TypeList, wire.StatusOK, wire.ListReq{Dir: "big"}); err != nil {
		t.Fatal(err)
	}
	total, batches, keepalives := 0, 0, 0
	for {
		r, err := c.recvList()
		if err != nil {
			t.Fatal(err)
		}
		if (batches == 0) != (len(r.Chain) == 1) || len(r.Entries) > 1000 {
			t.Fatalf("batch %d: chain %d entries %d", batches, len(r.Chain), len(r.Entries))
		}
		batches++
		total += len(r.Entries)
		if len(r.Entries) == 0 && !r.Done {
			keepalives++ // the walk took over a second (a loaded machine)
		}
		if r.Done {
			break
		}
	}
	if total != 2500 || batches-keepalives != 3 {
		t.Errorf("%d entries in %d batches (%d keepalives)", total, batches, keepalives)
	}
}
