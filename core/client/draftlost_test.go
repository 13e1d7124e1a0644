package client_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
	"dfs/node"
)

// A draft whose segments the nodes dropped from staging (the writer paused
// longer than their upload idle time: a mount holding a log file open)
// must not commit: every node refuses the conditional commit, and the
// previous version stays current and readable.
func TestDraftCommitAfterStagingDropped(t *testing.T) {
	c := testcluster.Start(t, testcluster.Configure(func(cfg *node.Config) { cfg.Budget.Idle = 300 * time.Millisecond }))
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	v1 := randBytes(t, int(2*S))
	mustPut(t, cl, "f", v1)
	f, err := cl.Open(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	d := cl.NewDraft("f", f)
	if err := d.PutSegment(ctx, 1, randBytes(t, int(S))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the nodes drop the idle upload
	_, err = d.Commit(ctx, 2*S, client.PutOptions{})
	if !errors.Is(err, core.ErrIncomplete) {
		t.Fatalf("commit of dropped chunks: %v, want ErrIncomplete", err)
	}
	if !strings.Contains(err.Error(), "segment 1 chunk") {
		t.Errorf("error does not name the missing chunks: %v", err)
	}
	got, err := get(t, cl, "f")
	if err != nil || !bytes.Equal(got, v1) {
		t.Fatalf("previous version after a refused commit: %d bytes, %v", len(got), err)
	}
}

// A draft kept open past the nodes' grace period while another writer
// replaced the file keeps segments the nodes have swept: its commit stops
// after the first wave, and the other writer's version stays readable.
func TestDraftCommitOnSweptBase(t *testing.T) {
	c := testcluster.Start(t, testcluster.Grace(300*time.Millisecond))
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	mustPut(t, cl, "f", randBytes(t, int(3*S)))
	f, err := cl.Open(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	d := cl.NewDraft("f", f)
	if err := d.PutSegment(ctx, 1, randBytes(t, int(S))); err != nil {
		t.Fatal(err)
	}
	v2 := randBytes(t, int(3*S))
	mustPut(t, cl, "f", v2) // another writer
	time.Sleep(1500 * time.Millisecond)
	_, err = d.Commit(ctx, 3*S, client.PutOptions{})
	if !errors.Is(err, core.ErrIncomplete) || !strings.Contains(err.Error(), "segment 0 chunk") {
		t.Fatalf("commit keeping swept segments: %v, want ErrIncomplete naming segment 0", err)
	}
	got, err := get(t, cl, "f")
	if err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("the other writer's version after a stale draft's commit: %d bytes, %v", len(got), err)
	}
}
