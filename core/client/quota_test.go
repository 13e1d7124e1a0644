package client_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// used returns what alice holds on each node (INFO).
func used(t *testing.T, cl *client.Client) [core.NumNodes]uint64 {
	t.Helper()
	nodes, err := cl.Ping(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var out [core.NumNodes]uint64
	for n, s := range nodes {
		if !s.Up {
			t.Fatalf("%s is down: %v", s.Name, s.Err)
		}
		out[n] = s.Info.Used
	}
	return out
}

// waitUsed waits until alice holds at most max[n] on each node n (the
// set-aside chunks of what she removed are swept after the grace).
func waitUsed(t *testing.T, cl *client.Client, max [core.NumNodes]uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		u := used(t, cl)
		if u[0] <= max[0] && u[1] <= max[1] && u[2] <= max[2] && u[3] <= max[3] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("use %v after 30 s, want at most %v", u, max)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestQuotaOneNodeFull: a put that one node refuses for quota fails with
// core.ErrQuota and the node's message, though every chunk has a copy on
// another node: nothing is committed, the previous version stays, and the
// chunks the other nodes took are dropped, not left staged against the
// quota. Removing files frees the room once the grace is over.
func TestQuotaOneNodeFull(t *testing.T) {
	c := testcluster.Start(t, testcluster.Grace(200*time.Millisecond))
	cl := c.Client(t, "alice", "Crimson33")
	// DFS1 alone keeps a file the others removed while it was down.
	mustPut(t, cl, "kept", randBytes(t, 2<<20))
	c.Stop(0)
	if err := cl.Remove(ctxT(t), "kept"); err != nil {
		t.Fatal(err)
	}
	c.Restart(0)
	waitUsed(t, cl, [core.NumNodes]uint64{1<<20 + 1<<10, 0, 0, 0}) // DFS1: 1 MiB of "kept"; the others: swept
	old := randBytes(t, 100<<10)
	mustPut(t, cl, "f", old) // 50 KiB a node

	c.SetQuota("alice", "1500K")
	before := used(t, cl)
	_, err := put(t, cl, "f", randBytes(t, 2<<20)) // 1 MiB more a node: DFS1 has no room
	if !errors.Is(err, core.ErrQuota) {
		t.Fatalf("put over quota on DFS1: %v", err)
	}
	want := fmt.Sprintf("DFS1 (%s): over quota: using 1.0 MiB of 1.5 MiB, no room for 512.1 KiB more; remove files or ask the operator to raise it; the file was not stored", c.Addr(0))
	if msg := err.Error(); !strings.HasPrefix(msg, want) || strings.Contains(msg, "DFS2") {
		t.Errorf("error\n%s\nwant it to start\n%s", msg, want)
	}
	mustGet(t, cl, "f", old)
	if after := used(t, cl); after != before {
		t.Errorf("use %v after the failed put, %v before: its chunks were left staged", after, before)
	}

	// A file that fits everywhere is stored.
	mustPut(t, cl, "medium", randBytes(t, 200<<10))
	// A new small file goes to each node with its commit (putsmall.go):
	// the nodes with room keep it, and the put still fails.
	c.SetQuota("alice", "1M")
	res, err := put(t, cl, "small", randBytes(t, 20<<10))
	if !errors.Is(err, core.ErrQuota) || !strings.HasSuffix(err.Error(), "; the new file was stored with one copy of the chunks refused") ||
		res.State != client.StateDegraded {
		t.Errorf("a new small file DFS1 refuses: %v, %v", res.State, err)
	}
	c.SetQuota("alice", "1500K")
	// Removing "kept" from DFS1 too (heal replays the delete) makes room
	// once the grace is over.
	if _, err := cl.Heal(ctxT(t), client.HealOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUsed(t, cl, [core.NumNodes]uint64{200 << 10, 200 << 10, 200 << 10, 200 << 10}) // f, medium and small
	mustPut(t, cl, "f", randBytes(t, 2<<20))
}

// TestQuotaEveryNode: a put every node refuses fails whole, small files
// (chunks kept inline) as large ones; a user without a quota is not
// limited.
func TestQuotaEveryNode(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	c.SetQuota("alice", "1M")
	if _, err := put(t, cl, "big", randBytes(t, 4<<20)); !errors.Is(err, core.ErrQuota) {
		t.Fatalf("4 MiB against 1 MiB a node: %v", err)
	}
	mustPut(t, cl, "a", randBytes(t, 2030<<10))   // 1015 KiB a node
	mustPut(t, cl, "small", randBytes(t, 10<<10)) // 5 KiB more a node, inline
	_, err := put(t, cl, "b", randBytes(t, 30<<10))
	if !errors.Is(err, core.ErrQuota) || !strings.Contains(err.Error(), "over quota: using 1020.3 KiB of 1.0 MiB, no room for 7.5 KiB more") ||
		!strings.HasSuffix(err.Error(), "; the file was not stored") {
		t.Fatalf("a small file past the quota: %v", err)
	}
	if _, err := cl.Stat(ctxT(t), "b"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("the refused new file: %v", err)
	}
	// Bob has no quota.
	bob := c.Client(t, "bob", "Velvet77")
	mustPut(t, bob, "big", randBytes(t, 4<<20))
}
