//go:build linux

package mount

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"dfs/internal/testcluster"
	dfsnode "dfs/node"
)

// TestCheckpointIdleWriter: a file kept open for writing after a write
// of more than a segment (a log file) is committed by the mount on its
// own within Options.Checkpoint, so that the segments it stored are not
// left staged until the nodes drop the idle upload: another client reads
// the file as of the checkpoint, and the close after a pause longer than
// the nodes' idle time stores it whole.
func TestCheckpointIdleWriter(t *testing.T) {
	c := testcluster.Start(t, testcluster.Configure(func(cfg *dfsnode.Config) { cfg.Budget.Idle = time.Second }))
	cl := c.Client(t, "alice", "Crimson33")
	opts := testOptions(t)
	opts.Checkpoint = 200 * time.Millisecond
	mp := mountOptsT(t, cl, opts)
	other := c.Client(t, "alice", "Crimson33")

	first := randomBytes(int(segSize)+5000, 1)
	f, err := os.Create(filepath.Join(mp, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(first); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the checkpoint is not seen by another client", func() error {
		got, err := testcluster.Get(context.Background(), other, "log")
		if err == nil && !bytes.Equal(got, first) {
			err = fmt.Errorf("%d bytes, want %d", len(got), len(first))
		}
		return err
	})
	time.Sleep(2 * time.Second) // longer than the nodes keep an idle upload
	more := randomBytes(1000, 2)
	if _, err := f.Write(more); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close after an idle pause: %v", err)
	}
	want := append(first, more...)
	got, err := testcluster.Get(context.Background(), other, "log")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after close: %d bytes, %v; want %d bytes", len(got), err, len(want))
	}
}
