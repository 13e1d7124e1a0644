package client_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

func mustStatus(t *testing.T, cl *client.Client, wantOK bool) client.StatusReport {
	t.Helper()
	r, err := cl.Status(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() != wantOK {
		t.Fatalf("status OK=%v, want %v: %s", r.OK(), wantOK, r.Summary(cl))
	}
	return r
}

func mustHeal(t *testing.T, cl *client.Client) client.HealReport {
	t.Helper()
	rep, err := cl.Heal(ctxT(t), client.HealOptions{})
	if err != nil {
		t.Fatalf("heal: %v (%+v)", err, rep)
	}
	return rep
}

func TestHealAfterNodeDownDuringPuts(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	files := map[string][]byte{}
	c.Stop(1)
	for i, size := range []int{0, 10, 5000, 300_000} {
		name := "d/f" + string(rune('a'+i))
		files[name] = randBytes(t, size)
		if res := mustPut(t, cl, name, files[name]); res.State != client.StateDegraded && size > 0 {
			t.Errorf("put with DFS2 down: %v", res.State)
		}
	}
	c.Restart(1)
	r := mustStatus(t, cl, false)
	if len(r.AtRisk) == 0 {
		t.Fatalf("no file reported at risk: %s", r.Summary(cl))
	}
	rep := mustHeal(t, cl)
	if rep.ChunksCopied == 0 {
		t.Errorf("heal copied nothing: %+v", rep)
	}
	r = mustStatus(t, cl, true)
	if got := r.Summary(cl); got != "all 4 files survive the loss of any one node" {
		t.Errorf("summary: %q", got)
	}
	// Every file now survives the loss of each node in turn.
	for n := 0; n < core.NumNodes; n++ {
		c.Stop(n)
		for name, data := range files {
			mustGet(t, cl, name, data)
		}
		c.Restart(n)
	}
	if rep := mustHeal(t, cl); rep.ChunksCopied != 0 || rep.Updated != 0 {
		t.Errorf("second heal did work: %+v", rep)
	}
}

func TestHealBlankNode(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	data := randBytes(t, 123_457)
	mustPut(t, cl, "a/b/c.bin", data)
	mustPut(t, cl, "top", []byte("top"))
	c.Wipe(3)
	mustStatus(t, cl, false)
	mustHeal(t, cl)
	mustStatus(t, cl, true)
	// DFS4 alone with its pair partner serves everything again.
	c.Stop(0)
	c.Stop(2)
	mustGet(t, cl, "a/b/c.bin", data)
	mustGet(t, cl, "top", []byte("top"))
}

func TestHealDeleteWhileDown(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	mustPut(t, cl, "gone", []byte("x"))
	mustPut(t, cl, "moved", []byte("y"))
	c.Stop(0)
	if err := cl.Remove(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Rename(ctx, "moved", "here"); err != nil {
		t.Fatal(err)
	}
	c.Restart(0)
	rep := mustHeal(t, cl)
	if rep.Tombstones == 0 {
		t.Errorf("no delete replayed: %+v", rep)
	}
	mustStatus(t, cl, true)
	for _, name := range []string{"gone", "moved"} {
		if _, err := cl.Stat(ctx, name); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("%s after heal: %v", name, err)
		}
	}
	mustGet(t, cl, "here", []byte("y"))
	// Once every node had the tombstones, heal removed them from disk.
	if _, err := os.Stat(entryDir(t, cl, c.Dir(1), "alice", "gone")); !os.IsNotExist(err) {
		t.Errorf("tombstone left after heal: %v", err)
	}
}

func TestHealCorruptCopy(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	data := randBytes(t, 200_000)
	mustPut(t, cl, "f", data)
	for _, p := range chunkFiles(t, c.Dir(2)) {
		b, _ := os.ReadFile(p)
		b[100] ^= 1
		os.WriteFile(p, b, 0o600)
	}
	// A scan (as the node's scrub does) finds and quarantines the bad copies.
	r, err := c.Server(2).Scrub(context.Background())
	if err != nil || len(r.Bad) == 0 {
		t.Fatalf("scrub: %+v %v", r, err)
	}
	mustStatus(t, cl, false)
	mustHeal(t, cl)
	mustStatus(t, cl, true)
	c.Stop(0)
	c.Stop(2)
	mustGet(t, cl, "f", data)
}

func TestHealAfterFailedPut(t *testing.T) {
	// A put that could reach only DFS1 uploads there, commits nowhere, and
	// leaves the old version current before and after heal.
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	old := []byte("old version")
	mustPut(t, cl, "f", old)
	c.Stop(1)
	c.Stop(2)
	c.Stop(3)
	if _, err := put(t, cl, "f", []byte("new version, never finished")); err == nil {
		t.Fatal("put with three nodes down succeeded")
	}
	for n := 1; n < 4; n++ {
		c.Restart(n)
	}
	mustGet(t, cl, "f", old)
	mustHeal(t, cl)
	mustStatus(t, cl, true)
	mustGet(t, cl, "f", old)
}
