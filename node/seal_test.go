package node

import (
	"strings"
	"testing"

	"dfs/core"
	"dfs/core/wire"
)

// Seals (wire.Meta.Seal) are the clients': a node stores each as it came
// with the change that made the entry, and returns it unchanged.

// sealsOf returns what LOOKUP and a recursive LIST of the top folder tell
// of the seal of the entry at p ("<missing>" where it is not listed).
func sealsOf(t *testing.T, c *tclient, p string) (lookup, list string) {
	t.Helper()
	lookup, list = "<missing>", "<missing>"
	if ch := c.lookup(p); len(ch) > 0 && ch[len(ch)-1].Path == p {
		lookup = ch[len(ch)-1].Seal
	}
	_, ents, err := c.list("", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ents {
		if m.Path == p {
			list = m.Seal
		}
	}
	return lookup, list
}

func wantSeal(t *testing.T, c *tclient, p, want string) {
	t.Helper()
	if lookup, list := sealsOf(t, c, p); lookup != want || list != want {
		t.Errorf("%s: seal %q in LOOKUP, %q in LIST, want %q", p, lookup, list, want)
	}
}

// TestSealsKept: the seal given with a commit, mkdir, setattr, delete,
// rmdir and rename comes back unchanged through LOOKUP and LIST.
func TestSealsKept(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	m, up, err := c.sendChunks([]byte("sealed content"))
	if err != nil {
		t.Fatal(err)
	}
	m.Seal = "commit-seal_0123456789-ABCDEFGHIJKLMNOPQRSTU" // 43, like crypt's
	if _, err := c.commit("f", up, m); err != nil {
		t.Fatal(err)
	}
	wantSeal(t, c, "f", m.Seal)

	set := m
	set.Stamp, set.Mode, set.Seal = core.NewVersion(), 0o600, "setattr-seal"
	if err := c.updateOp(wire.UpdateSetattr, "f", set); err != nil {
		t.Fatal(err)
	}
	wantSeal(t, c, "f", "setattr-seal")

	if err := c.updateOp(wire.UpdateMkdir, "d", wire.Meta{Stamp: core.NewVersion(), Mode: 0o755, Seal: "mkdir-seal"}); err != nil {
		t.Fatal(err)
	}
	wantSeal(t, c, "d", "mkdir-seal")
	folder := lookupLast(t, n, "d")
	folder.Path, folder.Stamp, folder.Mode, folder.Seal = "", core.NewVersion(), 0o700, "folder-setattr-seal"
	if err := c.updateOp(wire.UpdateSetattr, "d", folder); err != nil {
		t.Fatal(err)
	}
	wantSeal(t, c, "d", "folder-setattr-seal")

	rs := core.NewVersion()
	if err := c.call(wire.TypeRename, wire.RenameReq{From: "f", To: "d/g", Stamp: rs, Seal: "moved-seal", TombSeal: "tomb-seal"}, nil); err != nil {
		t.Fatal(err)
	}
	wantSeal(t, c, "d/g", "moved-seal")
	wantSeal(t, c, "f", "tomb-seal")

	if err := c.updateOp(wire.UpdateDelete, "d/g", wire.Meta{Stamp: core.NewVersion(), Born: m.Born, Seal: "delete-seal"}); err != nil {
		t.Fatal(err)
	}
	wantSeal(t, c, "d/g", "delete-seal")
	if err := c.updateOp(wire.UpdateRmdir, "d", wire.Meta{Stamp: core.NewVersion(), Born: folder.Born, Seal: "rmdir-seal"}); err != nil {
		t.Fatal(err)
	}
	wantSeal(t, c, "d", "rmdir-seal")

	// A node started on the data folder reads them back from @meta.
	if err := n.s.store.Sync(); err != nil {
		t.Fatal(err)
	}
	dir := crashCopy(t, n)
	n = startNode(t, func(cfg *Config) { cfg.Dir = dir })
	c = login(t, n.addr, "alice", "Crimson33")
	wantSeal(t, c, "f", "tomb-seal")
	wantSeal(t, c, "d", "rmdir-seal")
}

// TestSealTooLong: a seal past wire.MaxSeal is a bad request, in a commit,
// an update and either seal of a rename, and changes nothing.
func TestSealTooLong(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	m, _, err := c.upload("f", []byte("content"))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("s", wire.MaxSeal+1)
	set := m
	set.Stamp, set.Seal = core.NewVersion(), long
	wantStatus(t, "setattr", c.updateOp(wire.UpdateSetattr, "f", set), wire.StatusBadRequest)
	wantStatus(t, "mkdir", c.updateOp(wire.UpdateMkdir, "d", wire.Meta{Stamp: core.NewVersion(), Seal: long}), wire.StatusBadRequest)
	wantStatus(t, "rename seal", c.call(wire.TypeRename, wire.RenameReq{From: "f", To: "g", Stamp: core.NewVersion(), Seal: long}, nil), wire.StatusBadRequest)
	wantStatus(t, "rename tomb seal", c.call(wire.TypeRename, wire.RenameReq{From: "f", To: "g", Stamp: core.NewVersion(), TombSeal: long}, nil), wire.StatusBadRequest)
	if got := lookupLast(t, n, "f"); got.Stamp != m.Stamp || got.Seal != "" {
		t.Errorf("changed by refused requests: %+v", got)
	}
	// A binary COMMIT with one is malformed (the connection closes).
	m2, up, err := c.sendChunks([]byte("other"))
	if err != nil {
		t.Fatal(err)
	}
	m2.Seal = long
	wantStatus(t, "commit", func() error { _, err := c.commit("f", up, m2); return err }(), wire.StatusBadRequest)
	if got := lookupLast(t, n, "f"); got.Version != m.Version {
		t.Errorf("refused commit applied: %+v", got)
	}
	// At the limit it is taken.
	set.Seal = long[1:]
	if err := login(t, n.addr, "alice", "Crimson33").updateOp(wire.UpdateSetattr, "f", set); err != nil {
		t.Fatal(err)
	}
}

// TestTombstoneBorn: a delete or rmdir leaves a tombstone with the
// request's Born (the one its seal covers), not the entry's; without one,
// the entry's, else the stamp.
func TestTombstoneBorn(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	m, _, err := c.upload("f", []byte("content"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.updateOp(wire.UpdateMkdir, "d", wire.Meta{Stamp: core.NewVersion()}); err != nil {
		t.Fatal(err)
	}
	born := core.NewVersion()
	st := core.NewVersion()
	if err := c.updateOp(wire.UpdateDelete, "f", wire.Meta{Stamp: st, Born: born}); err != nil {
		t.Fatal(err)
	}
	if got := lookupLast(t, n, "f"); !got.Deleted || got.Born != born || got.Born == m.Born {
		t.Errorf("file tombstone %+v, want Born %s", got, born)
	}
	if err := c.updateOp(wire.UpdateRmdir, "d", wire.Meta{Stamp: core.NewVersion(), Born: born}); err != nil {
		t.Fatal(err)
	}
	if got := lookupLast(t, n, "d"); !got.Deleted || !got.Dir || got.Born != born {
		t.Errorf("folder tombstone %+v, want Born %s", got, born)
	}
	// No Born in the request: the entry's; no entry either: the stamp.
	m2, _, err := c.upload("g", []byte("content"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.updateOp(wire.UpdateDelete, "g", wire.Meta{Stamp: core.NewVersion()}); err != nil {
		t.Fatal(err)
	}
	if got := lookupLast(t, n, "g"); got.Born != m2.Born {
		t.Errorf("tombstone without a Born: %+v, want the entry's %s", got, m2.Born)
	}
	st = core.NewVersion()
	if err := c.updateOp(wire.UpdateDelete, "none", wire.Meta{Stamp: st}); err != nil {
		t.Fatal(err)
	}
	if got := lookupLast(t, n, "none"); got.Born != st {
		t.Errorf("tombstone of nothing: %+v, want Born %s", got, st)
	}
}

// TestSetattrVersion: a setattr of a file, symlink or special entry
// applies only to the version it names (its seal covers that version's
// segments); another is stale and changes nothing. Folders have no
// version.
func TestSetattrVersion(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	m, _, err := c.upload("f", []byte("content"))
	if err != nil {
		t.Fatal(err)
	}
	link := special(wire.ModeSymlink|0o777, "t")
	if _, err := c.call2Commit("l", link); err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct {
		p string
		m wire.Meta
	}{{"f", m}, {"l", link}} {
		for _, v := range []string{core.NewVersion(), ""} {
			set := e.m
			set.Stamp, set.Version, set.Mode, set.Seal = core.NewVersion(), v, e.m.Mode&wire.ModeType|0o600, "other"
			wantStatus(t, e.p+" version "+v, c.updateOp(wire.UpdateSetattr, e.p, set), wire.StatusStale)
		}
		if got := lookupLast(t, n, e.p); got.Stamp != e.m.Stamp || got.Mode != e.m.Mode || got.Seal != e.m.Seal {
			t.Errorf("%s changed by a stale setattr: %+v", e.p, got)
		}
	}
	if err := c.updateOp(wire.UpdateMkdir, "d", wire.Meta{Stamp: core.NewVersion()}); err != nil {
		t.Fatal(err)
	}
	if err := c.updateOp(wire.UpdateSetattr, "d", wire.Meta{Stamp: core.NewVersion(), Mode: 0o700}); err != nil {
		t.Errorf("folder setattr: %v", err)
	}
}

// TestRenameCTime: the moved entry's CTime is the rename's time exactly
// (the client seals it so), even where the entry's was later.
func TestRenameCTime(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	m, up, err := c.sendChunks([]byte("content"))
	if err != nil {
		t.Fatal(err)
	}
	m.CTime = 1 << 62 // far in the future
	if _, err := c.commit("f", up, m); err != nil {
		t.Fatal(err)
	}
	rs := core.NewVersion()
	if err := c.call(wire.TypeRename, wire.RenameReq{From: "f", To: "g", Stamp: rs}, nil); err != nil {
		t.Fatal(err)
	}
	got := lookupLast(t, n, "g")
	if want := core.VersionTime(rs).UnixNano(); got.CTime != want || got.Stamp != rs {
		t.Errorf("moved entry: CTime %d stamp %s, want %d %s", got.CTime, got.Stamp, want, rs)
	}
	if tomb := lookupLast(t, n, "f"); !tomb.Deleted || tomb.Born != rs || tomb.Stamp != rs {
		t.Errorf("tombstone %+v", tomb)
	}
}
