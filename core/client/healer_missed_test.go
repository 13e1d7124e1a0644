package client_test

import (
	"context"
	"testing"
	"time"

	"dfs/core/client"
	"dfs/internal/testcluster"
)

// A node that is down when a mount starts and back before the healer's
// first check is healed all the same: the failed request marked it.
func TestHealerHealsNodeBackBeforeFirstCheck(t *testing.T) {
	c := testcluster.Start(t)
	c.Stop(1)
	writer := c.Client(t, "alice", testcluster.Users["alice"])
	if res := mustPut(t, writer, "f.bin", randBytes(t, 200_000)); res.State != client.StateDegraded {
		t.Fatalf("put with DFS2 down: %v", res.State)
	}
	mount := c.Client(t, "alice", testcluster.Users["alice"])
	if st, err := mount.Ping(ctxT(t)); err != nil || st[1].Up {
		t.Fatalf("mount start: %v %+v", err, st[1])
	}
	c.Restart(1) // back before the first check
	ctx, cancel := context.WithTimeout(ctxT(t), 10*time.Second)
	defer cancel()
	go mount.RunHealer(ctx, client.HealerOptions{Check: 100 * time.Millisecond, Every: time.Hour})
	for {
		r, err := mount.Status(ctx)
		if err == nil && r.OK() {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("not healed: %v %+v", err, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
