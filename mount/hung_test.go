//go:build linux

package mount

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"dfs/internal/testcluster"
)

// TestHungNodeProcess: with one dfsnode process stopped by SIGSTOP (a hang,
// not a crash: its connections stay open and nothing answers), what people
// do on the mount goes on without it after about a second: an 8 MiB
// `dd conv=fsync` finishes in well under the 30 s it once took, listing and
// reading do too, and nothing is lost once the node continues.
func TestHungNodeProcess(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t, testcluster.Processes())
	mp := mountT(t, c.Client(t, "alice", testcluster.Users["alice"]))
	tmp := t.TempDir()
	old := randomFile(t, filepath.Join(mp, "old"), 3<<20)
	run(t, tmp, "ls", "-l", mp) // pooled connections to every node
	src := filepath.Join(tmp, "src")
	data := randomFile(t, src, 8<<20)

	c.Freeze(0)
	resumed := false
	defer func() {
		if !resumed {
			c.Thaw(0)
		}
	}()
	timed := func(what string, limit time.Duration, fn func()) {
		t.Helper()
		start := time.Now()
		fn()
		d := time.Since(start)
		t.Logf("%s with DFS1 stopped: %v", what, d.Round(time.Millisecond))
		if d > limit {
			t.Errorf("%s with DFS1 stopped took %v (limit %v)", what, d, limit)
		}
	}
	timed("dd 8 MiB conv=fsync", 3*time.Second, func() {
		run(t, tmp, "dd", "if="+src, "of="+filepath.Join(mp, "new"), "bs=1M", "conv=fsync", "status=none")
	})
	time.Sleep(3 * time.Second) // the client's skip of DFS1 ends: the next operations meet it again
	timed("ls -l", 3*time.Second, func() { run(t, tmp, "ls", "-l", mp) })
	timed("cat", 3*time.Second, func() {
		got, err := os.ReadFile(filepath.Join(mp, "old"))
		if err != nil || !bytes.Equal(got, old) {
			t.Fatalf("read with DFS1 stopped: %v", err)
		}
	})
	c.Thaw(0)
	resumed = true
	got, err := os.ReadFile(filepath.Join(mp, "new"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the file written with DFS1 stopped: %d bytes, %v", len(got), err)
	}
}
