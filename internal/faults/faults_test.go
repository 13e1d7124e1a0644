package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"dfs/core/client"
	"dfs/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// defaultDuration is the workload phase of the short (CI) run.
const defaultDuration = 40 * time.Second

// TestFaultSuite runs four dfsnode processes as separate hosts (network
// namespaces) and four clients writing and reading while nodes are killed,
// cut off silently, wiped and corrupted; then it checks every acknowledged
// write. DFS_FAULT_DURATION sets the workload phase; DFS_REQUIRE_NETNS=1
// turns the skip on unsuitable machines into a failure. Heal runs between
// faults while the clients keep writing; DFS_FAULT_HEAL_QUIET=1 pauses them.
func TestFaultSuite(t *testing.T) {
	duration := defaultDuration
	if s := os.Getenv("DFS_FAULT_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			t.Fatalf("DFS_FAULT_DURATION=%q: want a positive Go duration like 40s or 10m", s)
		}
		duration = d
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, workload %v", seed, duration)

	c := testcluster.Start(t, testcluster.Namespaces())
	newClient := func() *client.Client {
		cfg := c.Config("alice", testcluster.Users["alice"])
		cfg.Timeout, cfg.Reply, cfg.IOTimeout = time.Second, 5*time.Second, 10*time.Second
		return testcluster.NewClient(t, cfg)
	}

	// The workload and the faults, side by side for duration.
	tl := &tally{}
	gate := &sync.RWMutex{}
	workers := make([]*worker, 4)
	for i := range workers {
		workers[i] = newWorker(i+1, newClient(), seed, gate)
	}
	in := &injector{c: c, dfsnode: testcluster.Binary(t, "dfsnode"), healer: newClient(), rnd: rand.New(rand.NewPCG(seed, 99)),
		logf: t.Logf, counts: map[string]int{}, gate: gate, quiet: os.Getenv("DFS_FAULT_HEAL_QUIET") == "1"}
	if in.quiet {
		t.Logf("DFS_FAULT_HEAL_QUIET=1: the workload pauses while heal runs")
	} else {
		t.Logf("heal runs while the clients write (DFS_FAULT_HEAL_QUIET=1 pauses them)")
	}
	ctx, stop := context.WithTimeout(context.Background(), duration)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }() // also when the harness ends the test early
	for _, w := range workers {
		wg.Go(func() { w.run(ctx, tl) })
	}
	// The injector runs on the test's goroutine: the cluster's methods
	// may fail the test, which only this goroutine may do.
	injErr := in.run(ctx)
	wg.Wait()
	if injErr != nil {
		t.Fatalf("fault injection: %v", injErr)
	}
	during := tl.snapshot()
	t.Logf("workload: %d puts (%d acknowledged, %d failed), %d gets (%d verified, %d unavailable), %d removes",
		during.puts, during.acked, during.putFailed, during.gets, during.verified, during.unavailable, during.rms)

	// The check: every node up, healed, every name read back, then read
	// again with each node down in turn.
	ch := &checker{c: c, client: newClient(), hist: map[string]history{}, t: tl, logf: t.Logf}
	for _, w := range workers {
		for name, h := range w.hist {
			ch.hist[name] = h
		}
	}
	healErr := ch.heal()
	checked := ch.readAll("after heal, every node up", true)
	if healErr == nil {
		ch.eachNodeDown()
	}

	end := tl.snapshot()
	faults := 0
	for _, k := range in.counts {
		faults += k
	}
	summary := fmt.Sprintf("faults: %d operations, %d faults (%d kills, %d drops, %d wipes, %d corruptions), %d acknowledged writes checked, %d lost, %d corrupt, %d mixed",
		during.puts+during.gets+during.rms, faults, in.counts["kill"], in.counts["drop"], in.counts["wipe"], in.counts["corrupt"],
		checked, end.lost, end.corrupt, end.mixed)
	t.Log(summary)
	for _, f := range tl.failures {
		t.Error(f)
	}
	if healErr != nil {
		t.Errorf("not every file survives the loss of any one node after heal: %v", healErr)
	}
	if end.lost+end.corrupt+end.mixed > 0 {
		t.Errorf("%d lost, %d corrupt, %d mixed acknowledged writes", end.lost, end.corrupt, end.mixed)
	}
	if faults == 0 {
		t.Errorf("no fault was injected in %v", duration)
	}
}
