package client_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/core/wire"
	"dfs/internal/testcluster"
)

// commitOnly commits a new version of name on node n alone, with no chunks:
// what a writer leaves when it dies right after its first commit reached
// one node (or what heal sees while that writer is still committing).
func commitOnly(t *testing.T, c *testcluster.Cluster, cl *client.Client, n int, name string) {
	t.Helper()
	conn, err := c.Login(n, "alice", "Crimson33")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	v := core.NewVersion()
	// One segment of four one-byte chunks that no node was sent.
	seg := wire.Segment{Index: 0, ID: core.NewVersion(), Size: 4, MD5: strings.Repeat("0", 32)}
	for ch := range seg.Chunks {
		seg.Chunks[ch] = wire.ChunkInfo{Size: 1 + core.ChunkOverhead, SHA256: strings.Repeat("0", 64)}
	}
	m := wire.Meta{Stamp: v, Born: v, Version: v, Size: 4, Mode: 0o644, Segments: []wire.Segment{seg}}
	stored, err := cl.SealFor(ctxT(t), name, &m)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.SendBody(wire.TypeCommit, wire.AppendCommitReq(nil, &wire.CommitReq{Path: stored, Meta: m})); err != nil {
		t.Fatal(err)
	}
	if err := conn.Recv(wire.TypeCommit, &wire.CommitResp{}); err != nil {
		t.Fatal(err)
	}
}

// TestHealLeavesCommitInProgress: a newer, incomplete version that is
// recent may belong to a writer still committing; heal must not overrule it
// with the older version (that would lose an acknowledged write). Once it is
// older than any commit can take, heal treats it as abandoned and restores
// the whole older version everywhere.
func TestHealLeavesCommitInProgress(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	old := []byte("the old, whole version")
	mustPut(t, cl, "f", old)
	commitOnly(t, c, cl, 0, "f")
	mustGet(t, cl, "f", old) // the newest whole version is served

	rep := mustHeal(t, cl)
	if !slices.Contains(rep.InProgress, "f") {
		t.Fatalf("heal overruled a recent commit: %+v", rep)
	}
	if left := rep.Left(); !slices.Equal(left, []string{"f"}) {
		t.Fatalf("left for a retry: %q, want f", left)
	}

	cfg := c.Config("alice", "Crimson33")
	cfg.IOTimeout, cfg.Reply = 100*time.Millisecond, 100*time.Millisecond // abandoned after 0.8 s
	quick, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer quick.Close()
	time.Sleep(time.Second)
	rep, err = quick.Heal(ctxT(t), client.HealOptions{Names: rep.Left()}) // the healer's retry
	if err != nil || len(rep.InProgress) != 0 || rep.Updated == 0 {
		t.Fatalf("heal of an abandoned commit: %+v %v", rep, err)
	}
	mustStatus(t, cl, true)
	c.Stop(1)
	c.Stop(3) // DFS1+DFS3 alone now serve the restored version
	mustGet(t, cl, "f", old)
}
