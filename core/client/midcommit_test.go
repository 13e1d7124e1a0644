package client_test

import (
	"errors"
	"io"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// TestOpenDuringCommit: an open whose lookup finds no whole version among
// the nodes' answers while that state may be a commit in progress (what a
// lookup sees when it reaches the nodes between a writer's two commit
// waves) asks again instead of failing, and gets the version that is whole
// a moment later. An incomplete file older than any commit is reported at
// once.
func TestOpenDuringCommit(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	res := mustPut(t, cl, "f", []byte("the old, whole version"))
	// Both holders of chunk 1 switch to a newer version whose chunks they
	// do not hold: neither version is whole among the answers.
	for _, n := range core.ChunkNodes(xOf(res.Entry), 0) {
		commitOnly(t, c, cl, n, "f")
	}
	newer := []byte("the new version, committed a moment later")
	done := make(chan error, 1)
	go func() {
		time.Sleep(30 * time.Millisecond)
		_, err := put(t, cl, "f", newer)
		done <- err
	}()
	f, err := cl.Open(ctxT(t), "f")
	if err := <-done; err != nil {
		t.Fatalf("the writer's put: %v", err)
	}
	if err != nil {
		t.Fatalf("open between two commits: %v", err)
	}
	got := make([]byte, 100)
	n, err := f.ReadAt(got, 0)
	if !errors.Is(err, io.EOF) || string(got[:n]) != string(newer) {
		t.Fatalf("read %q, %v; want the new version", got[:n], err)
	}

	cfg := c.Config("alice", "Crimson33")
	cfg.IOTimeout, cfg.Reply = 100*time.Millisecond, 100*time.Millisecond // no commit takes 0.8 s
	quick, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer quick.Close()
	commitOnly(t, c, quick, 0, "g") // a version no node holds a chunk of
	time.Sleep(time.Second)
	start := time.Now()
	if _, err := quick.Open(ctxT(t), "g"); !errors.Is(err, core.ErrIncomplete) {
		t.Fatalf("open of a file left incomplete: %v, want ErrIncomplete", err)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("open of a file left incomplete long ago took %v: it waited for a commit", d)
	}
}
