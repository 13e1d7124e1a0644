//go:build linux

package mount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"dfs/core"
	"dfs/internal/testcluster"
)

// TestQuotaEDQUOT: writing past the user's quota makes close(2) and
// fsync(2) fail with EDQUOT, as on a local disk with quotas, and nothing of
// the file reaches the nodes, nor stays on the mount; a file that fits is
// stored, and once the quota is raised the refused one is too, at once.
// The mount's log carries the node's message.
func TestQuotaEDQUOT(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	var log lockedBuffer
	opts := testOptions(t)
	opts.Log = slog.New(slog.NewTextHandler(&log, nil))
	mp := mountOptsT(t, cl, opts)
	c.SetQuota("alice", "1M")
	big := randomBytes(4<<20, 9) // 2 MiB a node (zeros would be a hole, which costs nothing)

	f, err := os.Create(filepath.Join(mp, "big"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(big); err != nil {
		t.Fatalf("write into the spool: %v", err)
	}
	if err := f.Sync(); !errors.Is(err, syscall.EDQUOT) {
		t.Errorf("fsync past the quota: %v, want EDQUOT", err)
	}
	if err := f.Close(); !errors.Is(err, syscall.EDQUOT) {
		t.Errorf("close past the quota: %v, want EDQUOT", err)
	}
	if err := os.WriteFile(filepath.Join(mp, "big2"), big, 0o644); !errors.Is(err, syscall.EDQUOT) {
		t.Errorf("WriteFile past the quota: %v, want EDQUOT", err)
	}
	if _, err := cl.Stat(context.Background(), "big2"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("the refused file on the nodes: %v", err)
	}
	// Once released, a new file that could not be stored is gone from the
	// mount too: no node has it.
	eventually(t, 5*time.Second, "the refused new file still shows", func() error {
		if _, err := os.Stat(filepath.Join(mp, "big")); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("stat: %v", err)
		}
		return nil
	})
	if err := os.WriteFile(filepath.Join(mp, "fits"), big[:1<<20], 0o644); err != nil {
		t.Errorf("a file within the quota: %v", err)
	}
	if !strings.Contains(log.String(), "over quota: using ") {
		t.Errorf("the mount's log has no over-quota message:\n%s", log.String())
	}

	c.SetQuota("alice", "10M")
	if err := os.WriteFile(filepath.Join(mp, "big2"), big, 0o644); err != nil {
		t.Errorf("after the quota was raised: %v\n%s", err, log.String())
	}
}

// lockedBuffer collects a log written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
