package client_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"dfs/core/client"
	"dfs/internal/testcluster"
)

// healTree makes tops×subs folders t<i>/s<j> with files small files in
// each, such that heal has work without copying chunks: DFS2 is down while
// the folders are made (the puts give them to it before their files:
// sealerAt), and the last folder is removed with its files while DFS2 is
// down again (issue 12, item 4). It returns the number of entries.
func healTree(t testing.TB, c *testcluster.Cluster, cl *client.Client, tops, subs, files int) int {
	ctx := ctxT(t) // for each phase: the puts of a large tree take minutes
	c.Stop(1)
	for i := range tops {
		if _, err := cl.Mkdir(ctx, fmt.Sprintf("t%d", i), 0o755); err != nil {
			t.Fatal(err)
		}
		for j := range subs {
			if _, err := cl.Mkdir(ctx, fmt.Sprintf("t%d/s%d", i, j), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.Restart(1)
	names := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for name := range names {
				mustPut(t, cl, name, []byte(name))
			}
		})
	}
	for i := range tops {
		for j := range subs {
			for k := range files {
				names <- fmt.Sprintf("t%d/s%d/f%d", i, j, k)
			}
		}
	}
	close(names)
	wg.Wait()
	ctx = ctxT(t)
	c.Stop(1)
	last := fmt.Sprintf("t%d/s%d", tops-1, subs-1)
	for k := range files {
		if err := cl.Remove(ctx, fmt.Sprintf("%s/f%d", last, k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Rmdir(ctx, last); err != nil {
		t.Fatal(err)
	}
	c.Restart(1)
	return tops * (1 + subs*(1+files))
}

// TestHealTreeSettles: one heal brings a tree of folders in line on a node
// that missed their creation (the puts gave it the folders) and a removal,
// and the next has nothing to do: the deletes of the removed folder's files
// and its rmdir are replayed there.
func TestHealTreeSettles(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	const tops, subs, files = 2, 8, 15
	healTree(t, c, cl, tops, subs, files)
	rep := mustHeal(t, cl)
	if rep.Updated != 0 || rep.Tombstones != files+1 || rep.Files != tops*subs*files-files {
		t.Errorf("first heal: %+v", rep)
	}
	last := entryDir(t, cl, c.Dir(1), "alice", fmt.Sprintf("t%d/s%d", tops-1, subs-1))
	if left, _ := filepath.Glob(filepath.Join(last, "*", "@meta")); len(left) > 0 {
		t.Errorf("the removed folder's files are left on DFS2: %q", left)
	}
	mustStatus(t, cl, true)
	noWork(t, mustHeal(t, cl))
}

// BenchmarkHealTree heals a tree of 100,000 entries (see healTree;
// DFS_BENCH_HEAL_ENTRIES changes the count) with `dfc heal` in a process of
// its own, as a mount's healer would, and reports its peak resident memory
// beside that of `dfc list` (which holds the whole tree at once, as heal
// once did). A second heal must find nothing to do. Making the tree takes
// minutes: it is 100,000 puts.
func BenchmarkHealTree(b *testing.B) {
	entries := 100_000
	if v := os.Getenv("DFS_BENCH_HEAL_ENTRIES"); v != "" {
		var err error
		if entries, err = strconv.Atoi(v); err != nil {
			b.Fatalf("DFS_BENCH_HEAL_ENTRIES: %v", err)
		}
	}
	dir := b.TempDir()
	dfc := testcluster.Binary(b, "dfc")
	c := testcluster.Start(b)
	cl := c.Client(b, "alice", "Crimson33")
	conf := filepath.Join(dir, "dfc.conf")
	c.WriteClientConf(b, conf, "alice", "Crimson33")
	n := healTree(b, c, cl, max(1, entries/10_000), 100, 99)
	b.ReportMetric(float64(n), "entries")
	b.ResetTimer()
	for range b.N {
		b.ReportMetric(maxRSS(b, dfc, "-conf", conf, "heal"), "heal-MiB")
		rep, err := cl.Heal(ctxT(b), client.HealOptions{})
		if err != nil || rep.Updated+rep.Tombstones+rep.Purged+rep.ChunksCopied != 0 {
			b.Fatalf("second heal: %v %+v", err, rep)
		}
	}
	b.StopTimer()
	b.ReportMetric(maxRSS(b, dfc, "-conf", conf, "list"), "list-MiB")
}

// maxRSS runs a command and returns its peak resident memory in MiB, the
// kernel's high-water mark for the process (VmHWM) read until it exits.
// (The rusage of a child is no good here: Linux counts in it the memory of
// the process that started it, which here holds four nodes.)
func maxRSS(tb testing.TB, name string, args ...string) float64 {
	if runtime.GOOS != "linux" {
		tb.Skip("VmHWM is Linux's")
	}
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var kb int64
	for {
		// Read before the exit is seen, so the last read is from the end
		// of the run (a process that exited but is not waited for yet is a
		// zombie whose status has no VmHWM line).
		if b, err := os.ReadFile(status); err == nil {
			for line := range strings.Lines(string(b)) {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					if n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64); err == nil {
						kb = max(kb, n)
					}
				}
			}
		}
		select {
		case err := <-done:
			if err != nil {
				tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
			}
			return float64(kb) / 1024
		case <-time.After(2 * time.Millisecond):
		}
	}
}
