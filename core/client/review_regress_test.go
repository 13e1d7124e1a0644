package client_test

import (
	"testing"

	"dfs/core/client"
	"dfs/internal/testcluster"
)

// TestWriteIntoFolderKeepsSiblings: a node that missed a folder's creation
// makes it when a later write lands there; that folder must not look newer
// than the real one, or the folder's older files would be taken for
// leftovers and vanish from view.
func TestWriteIntoFolderKeepsSiblings(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	c.Stop(3)
	if _, err := cl.Mkdir(ctxT(t), "D", 0o755); err != nil {
		t.Fatal(err)
	}
	a := randBytes(t, 1000)
	mustPut(t, cl, "D/a", a)
	c.Restart(3)
	mustPut(t, cl, "D/b", randBytes(t, 1000))
	ents, err := cl.ReadDir(ctxT(t), "D")
	if err != nil || len(ents) != 2 {
		t.Fatalf("readdir D: %d entries, %v; want D/a and D/b", len(ents), err)
	}
	mustGet(t, cl, "D/a", a)
	mustHeal(t, cl)
	mustStatus(t, cl, true)
}

// TestSetattrDuringOverwriteKeepsNewVersion: a chmod from another client
// that lands between an overwrite's two commit waves gives both versions
// the same stamp on different nodes; the newer content must win, and heal
// must spread it, not the old one.
func TestSetattrDuringOverwriteKeepsNewVersion(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	old := []byte("old content")
	mustPut(t, cl, "f", old)
	// An overwrite that reached DFS1+DFS3 only: the others are down.
	c.Stop(1)
	c.Stop(3)
	nu := []byte("new content, acknowledged")
	mustPut(t, cl, "f", nu)
	c.Restart(1)
	c.Restart(3)
	// Now a chmod stamps whatever each node holds with one new stamp.
	mode := client.Entry{}.Mode | 0o600
	if _, err := cl.SetAttr(ctxT(t), "f", ptrMode(mode), nil); err != nil {
		t.Fatal(err)
	}
	mustGet(t, cl, "f", nu)
	mustHeal(t, cl)
	mustStatus(t, cl, true)
	c.Stop(0)
	c.Stop(2)
	mustGet(t, cl, "f", nu) // DFS2+DFS4 now hold the new version too
}
