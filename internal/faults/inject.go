package faults

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// faultKinds are injected in turn, one node at a time.
var faultKinds = []string{"kill", "drop", "wipe", "corrupt"}

// injector injects one fault at a time and heals it before the next, so
// that no moment has more than one faulty node.
type injector struct {
	c       *testcluster.Cluster
	dfsnode string // the binary, for its offline scrub
	healer  *client.Client
	rnd     *rand.Rand
	logf    func(format string, args ...any)
	counts  map[string]int // written by run's goroutine, read after it ends

	// gate, when quiet is set, is taken exclusively while healing, so the
	// workers pause; otherwise heal runs under load, as RunHealer does.
	gate  *sync.RWMutex
	quiet bool
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func (in *injector) jitter(min, max time.Duration) time.Duration {
	return min + time.Duration(in.rnd.Int64N(int64(max-min)))
}

// run injects faults until ctx ends. A fault once started is always
// undone, even after ctx ended.
func (in *injector) run(ctx context.Context) error {
	for i := 0; ; i++ {
		if !sleep(ctx, in.jitter(time.Second, 2*time.Second)) {
			return nil
		}
		kind := faultKinds[i%len(faultKinds)]
		n := in.rnd.IntN(core.NumNodes)
		in.logf("fault %d: %s %s", i+1, kind, core.NodeName(n))
		if err := in.inject(kind, n); err != nil {
			return fmt.Errorf("%s %s: %w", kind, core.NodeName(n), err)
		}
		in.counts[kind]++
		start := time.Now()
		ok := in.healUntilOK(20 * time.Second)
		in.logf("  healed %v in %v", ok, time.Since(start).Round(time.Millisecond))
	}
}

// inject does one fault on node n and undoes it.
func (in *injector) inject(kind string, n int) error {
	c := in.c
	switch kind {
	case "kill":
		c.Kill(n)
		time.Sleep(in.jitter(2*time.Second, 3*time.Second))
		c.Restart(n)
		return nil
	case "drop":
		c.Cut(n)
		time.Sleep(in.jitter(3*time.Second, 4*time.Second))
		c.Uncut(n)
		return nil
	case "wipe":
		c.Kill(n)
		time.Sleep(in.jitter(time.Second, 2*time.Second))
		c.Wipe(n) // empties the folder of the stopped node and starts it
		return nil
	case "corrupt":
		hit, err := corruptChunks(c.Dir(n), 3, in.rnd)
		if err != nil {
			return err
		}
		in.logf("  corrupted %d chunk files on %s", hit, core.NodeName(n))
		// Reads meanwhile meet the bad copies; the node must catch them.
		time.Sleep(in.jitter(2*time.Second, 3*time.Second))
		// A corrupt copy nobody read is only found by a scrub: stop the
		// node, scrub it (quarantining bad chunks), start it again, and
		// let heal restore the second copies.
		c.Kill(n)
		out, err := exec.Command(in.dfsnode, "scrub", c.Dir(n)).CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
			err = nil // 1 = bad chunks found and set aside: expected
		}
		if err != nil {
			return fmt.Errorf("scrub: %w: %s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "checked ") {
				in.logf("  scrub: %s", line)
			}
		}
		c.Restart(n)
		return nil
	}
	return fmt.Errorf("unknown fault %q", kind)
}

// healUntilOK runs heal until status says every file survives the loss of
// any one node, or until limit passes (then the next fault goes ahead and
// the final check judges).
func (in *injector) healUntilOK(limit time.Duration) bool {
	if in.quiet {
		in.gate.Lock()
		defer in.gate.Unlock()
	}
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, herr := in.healer.Heal(ctx, client.HealOptions{})
		st, serr := in.healer.Status(ctx)
		cancel()
		if herr == nil && serr == nil && st.OK() {
			return true
		}
		if time.Now().After(deadline) {
			in.logf("  not healed after %v: heal: %v; status: %v; %s", limit, herr, serr, st.Summary(in.healer))
			return false
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// chunkFile matches the chunk files a node stores: <segment id>.c<N>.
var chunkFile = regexp.MustCompile(`^[0-9a-f]{24}\.c[0-9]+$`)

// corruptChunks flips bytes in up to max chunk files under
// dir/users/*/segments (docs/format.md) and returns how many it changed.
func corruptChunks(dir string, max int, rnd *rand.Rand) (int, error) {
	var files []string
	users, _ := filepath.Glob(filepath.Join(dir, "users", "*", "segments"))
	for _, u := range users {
		filepath.WalkDir(u, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && chunkFile.MatchString(d.Name()) {
				files = append(files, p)
			}
			return nil
		})
	}
	rnd.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	hit := 0
	for _, p := range files[:min(max, len(files))] {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			continue // replaced meanwhile
		}
		fi, err := f.Stat()
		if err == nil && fi.Size() > 0 {
			off := rnd.Int64N(fi.Size())
			b := make([]byte, 1)
			if _, err = f.ReadAt(b, off); err == nil {
				b[0] ^= 0xff
				_, err = f.WriteAt(b, off)
			}
			if err == nil {
				hit++
			}
		}
		f.Close()
	}
	return hit, nil
}
