//go:build linux

package mount

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"dfs/internal/testcluster"
)

// TestCheckpointCommitFails: a checkpoint whose commit fails (three nodes
// briefly down) loses nothing. The segment the draft had stored kept its
// local copy; the spool starts a fresh draft and puts it again. The first
// write after the failure reports it (once), the writer goes on once the
// nodes are back, its close stores the file, and another client reads
// every byte; nothing is left in the cache folder.
func TestCheckpointCommitFails(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	opts := testOptions(t)
	opts.Checkpoint = 2 * time.Second
	mp := mountOptsT(t, cl, opts)
	other := c.Client(t, "alice", "Crimson33")

	want := randomBytes(int(segSize), 1) // one full segment: put at once, nothing left dirty
	f, err := os.Create(filepath.Join(mp, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(want); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond) // the put of segment 0 is done
	for n := 0; n < 3; n++ {
		c.Stop(n)
	}
	time.Sleep(3 * time.Second) // the checkpoint fires and its commit fails
	for n := 0; n < 3; n++ {
		c.Restart(n)
	}
	time.Sleep(time.Second)
	more := randomBytes(1000, 2)
	if _, err := f.Write(more); !errors.Is(err, syscall.EIO) {
		t.Fatalf("first write after the failed checkpoint: %v, want EIO (the failure, reported once)", err)
	}
	for i := range 12 { // 12 MiB more, past a segment of it: puts and a checkpoint on the fresh draft
		b := randomBytes(1<<20, int64(3+i))
		if _, err := f.Write(b); err != nil {
			t.Fatalf("write %d after the failure: %v", i, err)
		}
		want = append(want, b...)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	got, err := testcluster.Get(context.Background(), other, "log")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("another client reads %d bytes (%v), want %d; differs at %d", len(got), err, len(want), firstDiff(got, want))
	}
	if use := cacheUse(opts.CacheDir); use != 0 {
		t.Errorf("after close the cache folder holds %d bytes", use)
	}
}
