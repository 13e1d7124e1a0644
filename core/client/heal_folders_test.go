package client_test

import (
	"fmt"
	"testing"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// noWork fails the test when a heal report says heal changed something.
func noWork(t *testing.T, rep client.HealReport) {
	t.Helper()
	if rep.ChunksCopied != 0 || rep.Updated != 0 || rep.Tombstones != 0 || rep.Purged != 0 ||
		len(rep.Lost) != 0 || len(rep.InProgress) != 0 || len(rep.Errors) != 0 {
		t.Errorf("a heal right after a successful one did work: %+v", rep)
	}
}

// removedWhileDown makes w/z with five files, stops DFS1, and removes the
// files and the folder (rm -rf) through the client: DFS1 still holds them
// all when it comes back (issue 12, item 4).
func removedWhileDown(t *testing.T) (*testcluster.Cluster, *client.Client) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	for _, d := range []string{"w", "w/z"} {
		if _, err := cl.Mkdir(ctx, d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		mustPut(t, cl, fmt.Sprintf("w/z/f%d", i), randBytes(t, 3000*i))
	}
	c.Stop(0)
	for i := range 5 {
		if err := cl.Remove(ctx, fmt.Sprintf("w/z/f%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Rmdir(ctx, "w/z"); err != nil {
		t.Fatal(err)
	}
	c.Restart(0)
	return c, cl
}

// mustBeEmptyFolder checks that w/z is an empty folder everywhere a
// client looks: its listing, the whole listing and the status.
func mustBeEmptyFolder(t *testing.T, cl *client.Client, dir string) {
	t.Helper()
	ents, err := cl.ReadDir(ctxT(t), dir)
	if err != nil || len(ents) != 0 {
		t.Errorf("readdir %s: %d entries (%v), want none", dir, len(ents), err)
	}
	l, err := cl.List(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l.Entries {
		if core.Parent(e.Name) == dir {
			t.Errorf("list shows %s inside the new %s", e.Name, dir)
		}
	}
	mustStatus(t, cl, true)
}

// TestHealDeletedFolderThenRemake: the deletes of the files inside a folder
// removed while DFS1 was down reach DFS1, so the folder's own removal can,
// every tombstone goes once all nodes have it, and a folder made again at
// the name is empty.
func TestHealDeletedFolderThenRemake(t *testing.T) {
	_, cl := removedWhileDown(t)
	if rep := mustHeal(t, cl); rep.Tombstones != 6 || rep.Purged != 6 {
		t.Errorf("first heal: %+v, want the 6 removals replayed on DFS1 and purged", rep)
	}
	noWork(t, mustHeal(t, cl))
	if _, err := cl.Mkdir(ctxT(t), "w/z", 0o755); err != nil {
		t.Fatal(err)
	}
	mustHeal(t, cl)
	mustBeEmptyFolder(t, cl, "w/z")
	noWork(t, mustHeal(t, cl))
}

// TestRemakeDeletedFolderBeforeHeal: the folder is made again before any
// heal, while DFS1 still holds the old one with its files: the new folder
// replaces the old one there, files and all.
func TestRemakeDeletedFolderBeforeHeal(t *testing.T) {
	_, cl := removedWhileDown(t)
	if _, err := cl.Mkdir(ctxT(t), "w/z", 0o755); err != nil {
		t.Fatal(err)
	}
	mustBeEmptyFolder(t, cl, "w/z")
	mustHeal(t, cl)
	mustBeEmptyFolder(t, cl, "w/z")
	noWork(t, mustHeal(t, cl))
}

// TestHealFolderMadeWhileDown: a folder made while DFS1 was down, then a
// file written into it after DFS1 returned: the put gives DFS1 the folder's
// real meta before the file (sealerAt), where DFS1 would otherwise make the
// folder itself, unsealed, and heal has nothing left to do (issue 12, item
// 5).
func TestHealFolderMadeWhileDown(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	if _, err := cl.Mkdir(ctx, "p", 0o755); err != nil {
		t.Fatal(err)
	}
	c.Stop(0)
	if _, err := cl.Mkdir(ctx, "p/d", 0o700); err != nil {
		t.Fatal(err)
	}
	c.Restart(0)
	data := randBytes(t, 70_000)
	mustPut(t, cl, "p/d/f", data)
	noWork(t, mustHeal(t, cl))
	mustStatus(t, cl, true)
	c.Stop(1)
	c.Stop(3) // DFS1+DFS3 alone
	e, err := cl.Stat(ctx, "p/d")
	if err != nil || e.Mode != 0o700 {
		t.Fatalf("p/d on DFS1+DFS3: %+v %v", e, err)
	}
	mustGet(t, cl, "p/d/f", data)
}

// TestHealNamesRemovedFolder: a heal of named entries alone (the healer's
// retry) replays deletes under a removed folder before its removal, in
// whatever order the names come.
func TestHealNamesRemovedFolder(t *testing.T) {
	_, cl := removedWhileDown(t)
	names := []string{"w/z"}
	for i := range 5 {
		names = append(names, fmt.Sprintf("w/z/f%d", i))
	}
	rep, err := cl.Heal(ctxT(t), client.HealOptions{Names: names})
	if err != nil || rep.Tombstones != 6 || len(rep.Left()) != 0 {
		t.Fatalf("heal of %q: %v (%+v)", names, err, rep)
	}
	if ents, err := cl.ReadDir(ctxT(t), "w"); err != nil || len(ents) != 0 {
		t.Errorf("readdir w: %d entries (%v), want none", len(ents), err)
	}
	noWork(t, mustHeal(t, cl))
}
