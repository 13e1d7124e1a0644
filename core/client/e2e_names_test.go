package client_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dfs/core"
	"dfs/core/client"
	"dfs/core/crypt"
	"dfs/internal/testcluster"
)

// End-to-end trust of names and entries (issue 15): the nodes hold names
// encrypted and entries sealed by the client; an entry a node's folder
// holds that was not sealed there by the user is ignored (the other copies
// serve) and the node is reported.

// nodeHolds reports the files under the node's data folder whose path or
// content holds marker.
func nodeHolds(t *testing.T, data, marker string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.Contains(p, marker) {
			found = append(found, p)
			return nil
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte(marker)) {
				found = append(found, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestNamesNotOnNodes: the names of folders and files, and symlink
// targets, appear nowhere in the nodes' data folders.
func TestNamesNotOnNodes(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	mustPut(t, cl, "folder-q7zMarK/file-q7zMarK.txt", []byte("x"))
	mustPut(t, cl, "big-q7zMarK.bin", randBytes(t, 3<<20))
	if _, err := cl.Symlink(ctx, "link-q7zMarK", "../target-q7zMarK/there", 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := cl.Rename(ctx, "folder-q7zMarK", "moved-q7zMarK"); err != nil {
		t.Fatal(err)
	}
	for n := range core.NumNodes {
		if found := nodeHolds(t, c.Dir(n), "q7zMarK"); len(found) > 0 {
			t.Errorf("%s holds a name in clear: %q", core.NodeName(n), found)
		}
	}
	mustGet(t, cl, "moved-q7zMarK/file-q7zMarK.txt", []byte("x"))
}

// editMeta rewrites the @meta record of name on node n (stopped) with
// edit, as someone with the node's data folder can.
func editMeta(t *testing.T, c *testcluster.Cluster, cl *client.Client, n int, name string, edit func(m map[string]any)) {
	t.Helper()
	p := filepath.Join(entryDir(t, cl, c.Dir(n), "alice", name), "@meta")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// wantForged checks that node n was reported for at least one entry, the
// last at last, and that dfc status is not ok because of it.
func wantForged(t *testing.T, cl *client.Client, n int, last string) {
	t.Helper()
	f, ok := cl.Forged()[n]
	if !ok || f.Entries == 0 || f.Last != last {
		t.Errorf("%s reported for %+v, want entries with the last at %s", core.NodeName(n), cl.Forged(), last)
	}
	r := mustStatus(t, cl, false)
	if want := core.NodeName(n) + " served"; !strings.Contains(r.Summary(cl), want) {
		t.Errorf("status summary %q does not say %q", r.Summary(cl), want)
	}
}

// stopOthersGet checks that the nodes other than n serve data at name:
// heal copied nothing forged onto them.
func stopAndGet(t *testing.T, c *testcluster.Cluster, cl *client.Client, n int, name string, data []byte) {
	t.Helper()
	c.Stop(n)
	mustGet(t, cl, name, data)
	c.Restart(n)
}

// TestRewrittenMetaIgnored: a node's @meta rewritten with a newer stamp
// and another size is not served: the true entry is, the node is
// reported, and heal leaves the other nodes with the true entry.
func TestRewrittenMetaIgnored(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	data := randBytes(t, 100_000)
	mustPut(t, cl, "a/b.txt", data)
	c.Stop(0)
	editMeta(t, c, cl, 0, "a/b.txt", func(m map[string]any) {
		m["stamp"] = strings.Repeat("f", 24)
		m["size"] = 5
		segs := m["segments"].([]any)
		segs[0].(map[string]any)["size"] = 5
	})
	c.Restart(0)
	e, err := cl.Stat(ctxT(t), "a/b.txt")
	if err != nil || e.Size != int64(len(data)) {
		t.Fatalf("stat: size %d, %v; want the true %d", e.Size, err, len(data))
	}
	mustGet(t, cl, "a/b.txt", data)
	wantForged(t, cl, 0, "a/b.txt")
	if rep := mustHeal(t, cl); rep.Forged != 1 {
		t.Errorf("heal removed %d forged entries, want 1", rep.Forged)
	}
	stopAndGet(t, c, cl, 0, "a/b.txt", data)

	// The forgery, stamped later than the true version, no longer bars it
	// from the node: heal removed it and gave the node the true entry, so
	// a new client finds nothing to report, and DFS1 with DFS3 (which
	// hold every chunk between them) serve the true file.
	fresh := c.Client(t, "alice", "Crimson33")
	mustStatus(t, fresh, true)
	if f := fresh.Forged(); len(f) != 0 {
		t.Errorf("after heal, nodes still serve forgeries: %+v", f)
	}
	c.Stop(1)
	c.Stop(3)
	mustGet(t, fresh, "a/b.txt", data)
}

// TestSwappedEntriesIgnored: two files' entry folders swapped on one node
// are not served under each other's names.
func TestSwappedEntriesIgnored(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	x, y := randBytes(t, 5000), randBytes(t, 7000)
	mustPut(t, cl, "x", x)
	mustPut(t, cl, "y", y)
	c.Stop(1)
	dx, dy := entryDir(t, cl, c.Dir(1), "alice", "x"), entryDir(t, cl, c.Dir(1), "alice", "y")
	for _, mv := range [][2]string{{dx, dx + ".tmp"}, {dy, dx}, {dx + ".tmp", dy}} {
		if err := os.Rename(mv[0], mv[1]); err != nil {
			t.Fatal(err)
		}
	}
	c.Restart(1)
	mustGet(t, cl, "x", x)
	mustGet(t, cl, "y", y)
	es, err := cl.ReadDir(ctxT(t), "")
	if err != nil || len(es) != 2 || es[0].Size != int64(len(x)) || es[1].Size != int64(len(y)) {
		t.Fatalf("listing: %+v, %v", es, err)
	}
	if f := cl.Forged()[1]; f.Entries < 2 {
		t.Errorf("DFS2 reported for %+v, want both entries", f)
	}
	mustHeal(t, cl)
	stopAndGet(t, c, cl, 1, "x", x)
}

// TestMovedTombstoneIgnored: a tombstone copied into another folder on one
// node does not remove the file of that name there.
func TestMovedTombstoneIgnored(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	data := []byte("the file in d2")
	mustPut(t, cl, "d1/f", []byte("the file in d1"))
	mustPut(t, cl, "d2/f", data)
	if err := cl.Remove(ctx, "d1/f"); err != nil {
		t.Fatal(err)
	}
	c.Stop(2)
	tomb, err := os.ReadFile(filepath.Join(entryDir(t, cl, c.Dir(2), "alice", "d1/f"), "@meta"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(entryDir(t, cl, c.Dir(2), "alice", "d2/f"), "@meta"), tomb, 0o600); err != nil {
		t.Fatal(err)
	}
	c.Restart(2)
	mustGet(t, cl, "d2/f", data)
	es, err := cl.ReadDir(ctx, "d2")
	if err != nil || len(es) != 1 {
		t.Fatalf("d2: %+v, %v", es, err)
	}
	wantForged(t, cl, 2, "d2/f")
	mustHeal(t, cl)
	mustGet(t, cl, "d2/f", data)
	stopAndGet(t, c, cl, 2, "d2/f", data)
}

// TestRenamedFolderVerifies: what is under a renamed folder stays
// authenticated (sealed under the folder's Born, which a rename keeps),
// and the moved entries and the tombstones left are sealed as the nodes
// store them.
func TestRenamedFolderVerifies(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	mustPut(t, cl, "a/b/c.txt", []byte("deep"))
	mustPut(t, cl, "f", []byte("file"))
	if err := cl.Rename(ctx, "a", "z"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Rename(ctx, "f", "z/g"); err != nil {
		t.Fatal(err)
	}
	mustGet(t, cl, "z/b/c.txt", []byte("deep"))
	mustGet(t, cl, "z/g", []byte("file"))
	for _, gone := range []string{"a", "f", "a/b/c.txt"} {
		if _, err := cl.Stat(ctx, gone); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("%s after the rename: %v", gone, err)
		}
	}
	l, err := cl.List(ctx)
	if err != nil || len(l.Entries) != 4 {
		t.Fatalf("list: %+v, %v", l.Entries, err)
	}
	if f := cl.Forged(); len(f) > 0 {
		t.Errorf("entries failed authentication: %+v", f)
	}
	mustStatus(t, cl, true)
}

// TestSetAttrAfterCommit: an attribute change made from an entry older
// than the version the nodes hold (a commit came in between) is sealed
// with that version's content, not the older one's.
func TestSetAttrAfterCommit(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	mustPut(t, cl, "f", []byte("old"))
	old, err := cl.Stat(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	newer := []byte("the newer version")
	mustPut(t, cl, "f", newer)
	mode := uint32(0o600)
	if _, err := cl.SetAttrsOf(ctx, old, client.Attrs{Mode: &mode}); err != nil {
		t.Fatal(err)
	}
	e, err := cl.Stat(ctx, "f")
	if err != nil || e.Mode&0o777 != 0o600 || e.Size != int64(len(newer)) {
		t.Fatalf("after setattr: mode %o size %d, %v", e.Mode, e.Size, err)
	}
	mustGet(t, cl, "f", newer)
	if f := cl.Forged(); len(f) > 0 {
		t.Errorf("entries failed authentication: %+v", f)
	}
}

// TestSymlinkTargetRoundTrip: a symlink's target is stored encrypted and
// comes back as written, after a setattr and through heal.
func TestSymlinkTargetRoundTrip(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	target := "../some where/" + strings.Repeat("t", 3000)
	if _, err := cl.Symlink(ctx, "l", target, 0, 0); err != nil {
		t.Fatal(err)
	}
	c.Stop(3)
	if _, err := cl.Symlink(ctx, "m", "x", 0, 0); err != nil {
		t.Fatal(err)
	}
	c.Restart(3)
	mustHeal(t, cl)
	mode := uint32(0o700)
	if _, err := cl.SetAttrs(ctx, "l", client.Attrs{Mode: &mode}); err != nil {
		t.Fatal(err)
	}
	c.Stop(0)
	c.Stop(1)
	for name, want := range map[string]string{"l": target, "m": "x"} {
		e, err := cl.Stat(ctx, name)
		if err != nil || e.Target != want || e.Size != int64(len(want)) {
			t.Errorf("%s: target of %d bytes, size %d, %v; want %d bytes", name, len(e.Target), e.Size, err, len(want))
		}
	}
	if f := cl.Forged(); len(f) > 0 {
		t.Errorf("entries failed authentication: %+v", f)
	}
}

// TestNameTooLong: a component longer than crypt.MaxName, or a path whose
// encrypted form is longer than core.MaxPath, is refused before any node
// is asked; one of crypt.MaxName bytes is stored.
func TestNameTooLong(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	long := strings.Repeat("n", crypt.MaxName)
	mustPut(t, cl, long, []byte("fits"))
	mustGet(t, cl, long, []byte("fits"))
	if _, err := put(t, cl, long+"n", []byte("x")); !errors.Is(err, core.ErrNameTooLong) {
		t.Errorf("put of a %d-byte name: %v, want ErrNameTooLong", len(long)+1, err)
	}
	if _, err := cl.Mkdir(ctx, long+"n", 0o755); !errors.Is(err, core.ErrNameTooLong) {
		t.Errorf("mkdir of a %d-byte name: %v, want ErrNameTooLong", len(long)+1, err)
	}
	deep := strings.Repeat(long+"/", 20) + "f" // 20 components of 235 encrypted bytes
	if _, err := put(t, cl, deep, []byte("x")); !errors.Is(err, core.ErrNameTooLong) {
		t.Errorf("put of a path %d bytes encrypted: %v, want ErrNameTooLong", client.StoredLen(deep), err)
	}
	if _, err := cl.Stat(ctx, long+"n"); !errors.Is(err, core.ErrNameTooLong) {
		t.Errorf("stat of a %d-byte name: %v, want ErrNameTooLong", len(long)+1, err)
	}
	mustStatus(t, cl, true)
}

// TestRenameOverLaggingNode: a rename is sent only to the nodes holding
// the entry as merged (its seal is of that entry moved): a node that
// missed a chmod of the folder and an overwrite of the file gets the
// rename through heal, and never holds an entry failing authentication.
func TestRenameOverLaggingNode(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	mustPut(t, cl, "d/f", []byte("first"))
	mustPut(t, cl, "g", []byte("first"))
	c.Stop(1)
	mode := uint32(0o700)
	if _, err := cl.SetAttrs(ctx, "d", client.Attrs{Mode: &mode}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, cl, "g", []byte("second"))
	c.Restart(1)
	if err := cl.Rename(ctx, "d", "e"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Rename(ctx, "g", "e/g"); err != nil {
		t.Fatal(err)
	}
	mustGet(t, cl, "e/f", []byte("first"))
	mustGet(t, cl, "e/g", []byte("second"))
	mustHeal(t, cl)
	if f := cl.Forged(); len(f) > 0 {
		t.Errorf("entries failed authentication: %+v", f)
	}
	mustStatus(t, cl, true)
	c.Stop(0)
	c.Stop(2)
	mustGet(t, cl, "e/g", []byte("second"))
	if e, err := cl.Stat(ctx, "e"); err != nil || e.Mode&0o777 != 0o700 {
		t.Errorf("e on DFS2 and DFS4 after heal: mode %o, %v", e.Mode, err)
	}
}

// TestEpochATimeRename: an access time of 0 (the epoch) is kept as it
// is: a rename seals the moved entry from what the client shows, which must
// be what the nodes hold, or the file (or a folder's whole tree) would fail
// authentication everywhere.
func TestEpochATimeRename(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	mustPut(t, cl, "d/f.txt", []byte("hello"))
	zero := int64(0)
	for _, name := range []string{"d/f.txt", "d"} {
		if _, err := cl.SetAttrs(ctx, name, client.Attrs{ATime: &zero}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Rename(ctx, "d/f.txt", "d/g.txt"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Rename(ctx, "d", "e"); err != nil {
		t.Fatal(err)
	}
	fresh := c.Client(t, "alice", "Crimson33")
	mustGet(t, fresh, "e/g.txt", []byte("hello"))
	if e, err := fresh.Stat(ctx, "e/g.txt"); err != nil || e.ATime.UnixNano() != 0 {
		t.Errorf("atime %v, %v; want the epoch", e.ATime, err)
	}
	if f := fresh.Forged(); len(f) != 0 {
		t.Errorf("entries fail authentication after the renames: %+v", f)
	}
}

// TestSetattrOtherFolder: a chmod reaching a node that still holds an
// earlier folder at the name (it missed the rmdir and the mkdir) is
// refused there, not stored with the new folder's seal: the node is not
// reported as changed outside dfs, and heal brings it the folder.
func TestSetattrOtherFolder(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	if _, err := cl.Mkdir(ctx, "d", 0o755); err != nil {
		t.Fatal(err)
	}
	c.Stop(3)
	if err := cl.Rmdir(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Mkdir(ctx, "d", 0o755); err != nil {
		t.Fatal(err)
	}
	c.Restart(3)
	mode := uint32(0o700)
	if _, err := cl.SetAttrs(ctx, "d", client.Attrs{Mode: &mode}); err != nil {
		t.Fatal(err)
	}
	fresh := c.Client(t, "alice", "Crimson33")
	if e, err := fresh.Stat(ctx, "d"); err != nil || e.Mode&0o777 != 0o700 {
		t.Fatalf("stat: mode %o, %v", e.Mode, err)
	}
	if f := fresh.Forged(); len(f) != 0 {
		t.Errorf("a plain chmod made a node look changed outside dfs: %+v", f)
	}
	mustHeal(t, fresh)
	c.Stop(0)
	c.Stop(1)
	if e, err := c.Client(t, "alice", "Crimson33").Stat(ctx, "d"); err != nil || e.Mode&0o777 != 0o700 {
		t.Errorf("after heal, DFS3 and DFS4 show mode %o, %v", e.Mode, err)
	}
}
