package client_test

import (
	"testing"
	"time"

	"dfs/core/client"
	"dfs/internal/testcluster"
)

// TestHungNodeAtFirstUse: a client whose first operation, which loads the
// user's key from the nodes, meets a hung node (SIGSTOPped) waits about
// Config.Stall for it, as any other operation does, not the reply timeout:
// a mount started while one node hangs starts at once.
func TestHungNodeAtFirstUse(t *testing.T) {
	c := testcluster.Start(t)
	mustPut(t, c.Client(t, "alice", "Crimson33"), "f", []byte("data"))
	cfg := c.Config("alice", "Crimson33")
	cfg.Stall = 300 * time.Millisecond
	c.Freeze(0)
	defer c.Thaw(0)
	for _, op := range []struct {
		name string
		run  func(cl *client.Client) error
	}{
		{"unlock", func(cl *client.Client) error { return cl.Unlock(ctxT(t)) }},
		{"stat", func(cl *client.Client) error { _, err := cl.Stat(ctxT(t), "f"); return err }},
	} {
		cl, err := client.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = op.run(cl)
		d := time.Since(start)
		cl.Close()
		if err != nil {
			t.Fatalf("%s with DFS1 hung: %v", op.name, err)
		}
		t.Logf("%s of a new client with DFS1 hung: %v", op.name, d.Round(time.Millisecond))
		if d > 3*time.Second {
			t.Errorf("%s of a new client with DFS1 hung took %v", op.name, d)
		}
	}
}
