package client_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// Folders a node made itself (unsealed, for a change below a folder whose
// mkdir it missed) are never a folder to the client: nothing written
// through the client may land under one, where it would not verify.

// plantNodeMade writes on node n's disk (stopped meanwhile) the folder a
// node makes itself for a change below a folder it lacks: unsealed, stamp
// and Born 000000000000000000000001. A node can make one at any name.
func plantNodeMade(t *testing.T, c *testcluster.Cluster, cl *client.Client, n int, name string) {
	t.Helper()
	c.Stop(n)
	dir := entryDir(t, cl, c.Dir(n), "alice", name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	meta := `{"dir":true,"stamp":"000000000000000000000001","born":"000000000000000000000001","size":0,"mode":493,"mtime":0}`
	if err := os.WriteFile(filepath.Join(dir, "@meta"), []byte(meta), 0o600); err != nil {
		t.Fatal(err)
	}
	c.Restart(n)
}

// TestImplicitPutUnderNodeMade: x is held for real only by DFS1 and DFS3;
// DFS2 and DFS4 hold it as a folder they made themselves. With DFS1 and
// DFS3 down, x does not exist, and a put into it makes a real x first: the
// file is readable, then and once DFS1 and DFS3 are back.
func TestImplicitPutUnderNodeMade(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	mustPut(t, cl, "warm", []byte("w"))
	c.Stop(1)
	c.Stop(3)
	if _, err := cl.Mkdir(ctx, "x", 0o755); err != nil {
		t.Fatal(err)
	}
	c.Restart(1)
	c.Restart(3)
	plantNodeMade(t, c, cl, 1, "x")
	plantNodeMade(t, c, cl, 3, "x")
	c.Stop(0)
	c.Stop(2)
	cl2 := c.Client(t, "alice", "Crimson33")
	if e, err := cl2.Stat(ctx, "x"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("x held only as node-made folders: %+v %v, want not found", e, err)
	}
	mustPut(t, cl2, "x/b", []byte("bbbb"))
	mustGet(t, cl2, "x/b", []byte("bbbb"))
	c.Restart(0)
	c.Restart(2)
	mustGet(t, c.Client(t, "alice", "Crimson33"), "x/b", []byte("bbbb"))
}

// TestImplicitPutAfterMissedMkdir: DFS3 and DFS4 missed the mkdir of x
// (down); back up, files put into x are readable at once, their copies on
// DFS3 and DFS4 included: the puts gave them x first. Also with listings
// cached, as the mount does, x's entry taken while they were down.
func TestImplicitPutAfterMissedMkdir(t *testing.T) {
	for _, cached := range []bool{false, true} {
		t.Run(map[bool]string{false: "fresh", true: "cached"}[cached], func(t *testing.T) {
			c := testcluster.Start(t)
			cl := c.Client(t, "alice", "Crimson33")
			ctx := ctxT(t)
			if cached {
				cl.CacheListings(time.Minute)
			}
			mustPut(t, cl, "warm", []byte("w"))
			c.Stop(2)
			c.Stop(3)
			if _, err := cl.Mkdir(ctx, "x", 0o755); err != nil {
				t.Fatal(err)
			}
			if _, err := cl.ReadDir(ctx, ""); err != nil {
				t.Fatal(err)
			}
			c.Restart(2)
			c.Restart(3)
			for i := range 3 {
				name := "x/f" + string(rune('a'+i))
				data := randBytes(t, 3<<20)
				mustPut(t, cl, name, data)
				mustGet(t, c.Client(t, "alice", "Crimson33"), name, data)
			}
		})
	}
}

// TestImplicitPlanted: DFS1's operator plants a folder "the node made
// itself" at a name seen elsewhere ("secret" encrypts alike in every
// folder). It is not listed, heal does not spread it, and a file put at
// that name goes into a real folder and reads back.
func TestImplicitPlanted(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	mustPut(t, cl, "a/secret", []byte("s"))
	plantNodeMade(t, c, cl, 0, "secret")
	cl2 := c.Client(t, "alice", "Crimson33")
	es, err := cl2.ReadDir(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Name == "secret" {
			t.Errorf("the planted folder is listed: %+v", e)
		}
	}
	if _, err := cl2.Heal(ctx, client.HealOptions{}); err != nil {
		t.Fatal(err)
	}
	for n := 1; n < 4; n++ {
		if _, err := os.Stat(filepath.Join(entryDir(t, cl, c.Dir(n), "alice", "secret"), "@meta")); err == nil {
			t.Errorf("heal gave DFS%d the planted folder", n+1)
		}
	}
	mustPut(t, cl2, "secret/mine.txt", []byte("mine"))
	mustGet(t, c.Client(t, "alice", "Crimson33"), "secret/mine.txt", []byte("mine"))
	c.Stop(0)
	mustGet(t, c.Client(t, "alice", "Crimson33"), "secret/mine.txt", []byte("mine"))
}
