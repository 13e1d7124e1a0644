package node

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// special returns the meta of a new special entry: a symlink when target
// is set, else mode's type.
func special(mode uint32, target string) wire.Meta {
	v := core.NewVersion()
	return wire.Meta{Stamp: v, Born: v, Version: v, Size: int64(len(target)), Mode: mode, Target: target,
		MTime: 5, ATime: 6, CTime: 7, UID: 1000, GID: 100}
}

// TestAttrsRefused: a node refuses (bad request) type bits it does not
// know, type bits on a folder, a target that is not a symlink's or of the
// wrong length, and segments on a special entry; it takes a target up to
// wire.MaxStoredTarget, the encrypted form of the longest.
func TestAttrsRefused(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	data := []byte("some content")
	m, up, err := c.sendChunks(data)
	if err != nil {
		t.Fatal(err)
	}
	withSegs := special(wire.ModeFIFO|0o644, "")
	withSegs.Size, withSegs.Segments = m.Size, m.Segments
	long := special(wire.ModeSymlink|0o777, strings.Repeat("t", wire.MaxStoredTarget+1))
	badSize := special(wire.ModeSymlink|0o777, "abc")
	badSize.Size = 2
	targetOnFile := m
	targetOnFile.Target = "x"
	oddBorn := m
	oddBorn.Born = strings.Repeat("\xff", 300) // picks the entry's inode number on mounts
	commits := map[string]wire.Meta{
		"a born that is no version id": oddBorn,
		"block device":                 special(0o060000|0o644, ""),
		"regular type bits":            special(0o100000|0o644, ""),
		"bits above the type":          special(1<<20|0o644, ""),
		"segments on a FIFO":           withSegs,
		"empty symlink":                special(wire.ModeSymlink|0o777, ""),
		"target too long":              long,
		"target with a NUL":            special(wire.ModeSymlink|0o777, "a\x00b"),
		"symlink size not target's":    badSize,
		"a target on a regular file":   targetOnFile,
	}
	for what, bad := range commits {
		c := login(t, n.addr, "alice", "Crimson33") // a bad request ends the connection
		wantStatus(t, what, c.call(wire.TypeCommit, wire.CommitReq{Path: "x", Upload: up, Meta: bad}, nil), wire.StatusBadRequest)
	}
	v := core.NewVersion()
	c = login(t, n.addr, "alice", "Crimson33")
	wantStatus(t, "mkdir with type bits", c.updateOp(wire.UpdateMkdir, "d", wire.Meta{Dir: true, Stamp: v, Born: v, Mode: wire.ModeFIFO | 0o755}), wire.StatusBadRequest)
	c = login(t, n.addr, "alice", "Crimson33")
	if _, err := c.commit("f", up, m); err != nil {
		t.Fatal(err)
	}
	set := m
	set.Stamp, set.Mode = core.NewVersion(), 0o30644
	wantStatus(t, "setattr with device bits", c.updateOp(wire.UpdateSetattr, "f", set), wire.StatusBadRequest)
	if got := lookupLast(t, n, "f"); got.Mode != 0o644 {
		t.Fatalf("after refusals: mode %#o", got.Mode)
	}
	// The longest target, as it is stored: encrypted.
	stored := special(wire.ModeSymlink|0o777, strings.Repeat("t", wire.MaxStoredTarget))
	stored.Size = wire.MaxTarget
	if _, err := c.call2Commit("l", stored); err != nil {
		t.Errorf("the longest stored target: %v", err)
	}
}

// lookupLast returns the node's meta of p, on a connection of its own.
func lookupLast(t *testing.T, n *testNode, p string) wire.Meta {
	t.Helper()
	ch := login(t, n.addr, "alice", "Crimson33").lookup(p)
	if len(ch) == 0 || ch[len(ch)-1].Path != p {
		t.Fatalf("lookup %s: %+v", p, ch)
	}
	return ch[len(ch)-1]
}

// TestSpecialEntries: symlinks, FIFOs and sockets committed without an
// upload come back whole through LIST and LOOKUP, and their record on disk
// holds the new fields.
func TestSpecialEntries(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	link := special(wire.ModeSymlink|0o777, "../elsewhere/file")
	fifo := special(wire.ModeFIFO|0o4640, "")
	sock := special(wire.ModeSocket|0o755, "")
	for p, m := range map[string]wire.Meta{"d/link": link, "d/fifo": fifo, "d/sock": sock} {
		held, err := c.call2Commit(p, m)
		if err != nil || len(held) != 0 {
			t.Fatalf("commit %s: %v %v", p, held, err)
		}
	}
	_, ms, err := c.list("d", false)
	if err != nil || len(ms) != 3 {
		t.Fatalf("list: %+v %v", ms, err)
	}
	for _, got := range ms {
		want := map[string]wire.Meta{"d/link": link, "d/fifo": fifo, "d/sock": sock}[got.Path]
		if got.Mode != want.Mode || got.Target != want.Target || got.Size != want.Size || got.UID != 1000 ||
			got.GID != 100 || got.ATime != 6 || got.CTime != 7 || got.MTime != 5 || len(got.Segments) != 0 {
			t.Errorf("listed %s: %+v", got.Path, got)
		}
	}
	if got := lookupLast(t, n, "d/link"); got.Target != link.Target || got.Mode != link.Mode {
		t.Errorf("lookup of the symlink: %+v", got)
	}
	// The record on disk (after a flush) carries the fields under their names.
	if err := n.s.store.Sync(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(n.dir, "users", "alice", "files", "d", "link", "@meta"))
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"uid": 1000.0, "gid": 100.0, "atime": 6.0, "ctime": 7.0,
		"target": link.Target, "mode": float64(wire.ModeSymlink | 0o777)} {
		if rec[k] != want {
			t.Errorf("record %s = %v, want %v (%s)", k, rec[k], want, raw)
		}
	}
	// A regular file over the symlink's name is a new version of it.
	if _, _, err := c.upload("d/link", []byte("now a file")); err != nil {
		t.Fatal(err)
	}
	if got := lookupLast(t, n, "d/link"); got.Target != "" || got.Mode != 0o644 {
		t.Errorf("file over a symlink: %+v", got)
	}
}

// call2Commit commits a special entry (no upload).
func (c *tclient) call2Commit(p string, m wire.Meta) ([]uint8, error) {
	var resp wire.CommitResp
	err := c.call(wire.TypeCommit, wire.CommitReq{Path: p, Meta: m, New: true}, &resp)
	return resp.Held, err
}

// TestSetattrAll: setattr takes mode (all 12 bits), uid, gid, mtime,
// atime and ctime from the request and keeps the entry's type and content.
func TestSetattrAll(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	m, _, err := c.upload("f", []byte("content"))
	if err != nil {
		t.Fatal(err)
	}
	set := m
	set.Stamp, set.Mode, set.UID, set.GID, set.MTime, set.ATime, set.CTime = core.NewVersion(), 0o7751, 7, 8, 11, 12, 13
	if err := c.updateOp(wire.UpdateSetattr, "f", set); err != nil {
		t.Fatal(err)
	}
	got := lookupLast(t, n, "f")
	if got.Mode != 0o7751 || got.UID != 7 || got.GID != 8 || got.MTime != 11 || got.ATime != 12 || got.CTime != 13 ||
		got.Version != m.Version || len(got.Segments) != 1 {
		t.Fatalf("after setattr: %+v", got)
	}
	link := special(wire.ModeSymlink|0o777, "t")
	if _, err := c.call2Commit("l", link); err != nil {
		t.Fatal(err)
	}
	set = link
	set.Stamp, set.Mode, set.UID = core.NewVersion(), wire.ModeSymlink|0o700, 0
	if err := c.updateOp(wire.UpdateSetattr, "l", set); err != nil {
		t.Fatal(err)
	}
	if got := lookupLast(t, n, "l"); got.Mode != wire.ModeSymlink|0o700 || got.UID != 0 || got.Target != "t" {
		t.Fatalf("symlink after setattr: %+v", got)
	}
}

// TestFolderTimes: making, removing and renaming an entry inside a folder
// moves the folder's mtime and ctime to the change's time without a new
// stamp, the same on every node whatever the order the changes came in.
func TestFolderTimes(t *testing.T) {
	nodes := []*testNode{startNode(t, nil), startNode(t, nil)}
	v0 := core.NewVersion()
	mkdir := func(p string) wire.Meta {
		return wire.Meta{Dir: true, Stamp: v0, Born: v0, Mode: 0o755, MTime: 1, ATime: 1, CTime: 1}
	}
	for _, n := range nodes {
		c := login(t, n.addr, "alice", "Crimson33")
		for _, p := range []string{"a", "b"} {
			if err := c.updateOp(wire.UpdateMkdir, p, mkdir(p)); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(what, p string, at string) {
		t.Helper()
		want := core.VersionTime(at).UnixNano()
		var first wire.Meta
		for i, n := range nodes {
			got := lookupLast(t, n, p)
			if got.MTime != want || got.CTime != want || got.Stamp != v0 {
				t.Fatalf("%s: node %d folder %s: mtime %d ctime %d stamp %s, want %d and stamp %s", what, i, p, got.MTime, got.CTime, got.Stamp, want, v0)
			}
			if i == 0 {
				first = got
			} else if got.MTime != first.MTime || got.CTime != first.CTime {
				t.Fatalf("%s: nodes differ", what)
			}
		}
	}
	// A file made in a: each node gets the same commit.
	c0 := login(t, nodes[0].addr, "alice", "Crimson33")
	c1 := login(t, nodes[1].addr, "alice", "Crimson33")
	m, up, err := c0.sendChunks([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c0.commit("a/f", up, m); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.commit("a/f", "", m); err != nil { // the same change, its chunks not here
		t.Fatal(err)
	}
	check("create", "a", m.Stamp)
	// An overwrite does not change the folder.
	time.Sleep(time.Millisecond)
	over := m
	over.Stamp = core.NewVersion()
	for _, c := range []*tclient{c0, c1} {
		if _, err := c.commit("a/f", "", over); err != nil {
			t.Fatal(err)
		}
	}
	check("overwrite", "a", m.Stamp)
	// A rename moves both folders' times; the moved entry's ctime too.
	rs := core.NewVersion()
	for _, c := range []*tclient{c0, c1} {
		if err := c.call(wire.TypeRename, wire.RenameReq{From: "a/f", To: "b/g", Stamp: rs}, nil); err != nil {
			t.Fatal(err)
		}
	}
	check("rename", "a", rs)
	check("rename", "b", rs)
	if got := lookupLast(t, nodes[1], "b/g"); got.CTime != core.VersionTime(rs).UnixNano() {
		t.Fatalf("moved entry's ctime %d", got.CTime)
	}
	// A mkdir and a delete, applied in opposite orders on the two nodes.
	mk, del := core.NewVersion(), core.NewVersion()
	sub := wire.Meta{Dir: true, Stamp: mk, Born: mk, Mode: 0o755}
	tomb := wire.Meta{Deleted: true, Stamp: del}
	if err := c0.updateOp(wire.UpdateMkdir, "b/sub", sub); err != nil {
		t.Fatal(err)
	}
	if err := c0.updateOp(wire.UpdateDelete, "b/g", tomb); err != nil {
		t.Fatal(err)
	}
	if err := c1.updateOp(wire.UpdateDelete, "b/g", tomb); err != nil {
		t.Fatal(err)
	}
	if err := c1.updateOp(wire.UpdateMkdir, "b/sub", sub); err != nil {
		t.Fatal(err)
	}
	check("mkdir and delete", "b", del)
	// A replay changes nothing; an rmdir moves the time on.
	wantStatus(t, "replayed delete", c1.updateOp(wire.UpdateDelete, "b/g", tomb), wire.StatusStale)
	check("replay", "b", del)
	rm := core.NewVersion()
	for _, c := range []*tclient{c0, c1} {
		if err := c.updateOp(wire.UpdateRmdir, "b/sub", wire.Meta{Dir: true, Deleted: true, Stamp: rm, Born: mk}); err != nil {
			t.Fatal(err)
		}
	}
	check("rmdir", "b", rm)
}
