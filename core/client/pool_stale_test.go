package client_test

import (
	"sync"
	"testing"

	"dfs/internal/testcluster"
)

// TestRestartedNodeIdleConns: after a node restarts, every connection the
// client pooled to it is dead. The first request finds one stale and must
// drop the others too, so its one retry dials afresh instead of failing on
// the next stale one.
func TestRestartedNodeIdleConns(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	// Concurrent pings leave several idle connections per node.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := cl.Ping(ctxT(t)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c.Restart(0)
	st, err := cl.Ping(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if !st[0].Up {
		t.Fatalf("restarted node: %v", st[0].Err)
	}
}
