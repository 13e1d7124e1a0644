package core_test

import (
	"context"
	"testing"
	"time"

	"dfs/core"
	"dfs/internal/testcluster"
)

// TestHealerHealsReturningNode: with the healer running (as inside
// dfsmount), a node that was down during puts is healed soon after it comes
// back, with no command.
func TestHealerHealsReturningNode(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go cl.RunHealer(ctx, core.HealerOptions{Check: 200 * time.Millisecond})
	c.Stop(2)
	data := randBytes(t, 50_000)
	mustPut(t, cl, "f", data)
	time.Sleep(500 * time.Millisecond) // the healer sees DFS3 down
	c.Restart(2)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := cl.Status(ctxT(t))
		if err == nil && r.OK() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healed 30 s after the node returned: %v %s", err, r.Summary(cl))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The healed DFS3 with DFS1 holds every chunk: read with the others down.
	c.Stop(1)
	c.Stop(3)
	mustGet(t, cl, "f", data)
}

// TestHealerHealsBlankReplacement: a node replaced by a blank one between
// two checks (never seen down) is noticed by its new start time and healed.
func TestHealerHealsBlankReplacement(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	data := randBytes(t, 50_000)
	mustPut(t, cl, "f", data)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go cl.RunHealer(ctx, core.HealerOptions{Check: 500 * time.Millisecond, Every: time.Hour})
	time.Sleep(700 * time.Millisecond) // the healer has seen every node's start time
	c.Wipe(1)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := cl.Status(ctxT(t))
		if err == nil && r.OK() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("blank DFS2 not healed: %v %s", err, r.Summary(cl))
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.Stop(0)
	c.Stop(2) // DFS2+DFS4 alone
	mustGet(t, cl, "f", data)
}
