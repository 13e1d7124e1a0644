package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"dfs/core/wire"
	"dfs/internal/guess"
	"dfs/internal/testcluster"
)

// TestListWhileGuessed: another host trying Alice's password on every
// node, over eight connections to each, slows none of her dfc lists (each
// run logs in anew on all four nodes), during the guessing or after it;
// and the guesses come no faster than the documented schedule allows
// (docs/security.md, Logins).
func TestListWhileGuessed(t *testing.T) {
	guess.NeedHost(t, "127.0.0.2")
	c := startCluster(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "report.txt")
	if err := os.WriteFile(src, []byte("quarterly\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok(dir, "put", src)

	start := time.Now()
	var gs []*guess.Guesser
	for _, a := range c.Nodes() {
		dial := guess.From("127.0.0.2", a.Addr, wire.ClientTLS(a.Name, a.Addr, a.Pin))
		gs = append(gs, guess.Start(dial, []string{"alice"}, "Crimson34", 8))
	}
	// The dfc built without -race: a race binary sleeps a second on exit
	// (GORACE atexit_sleep_ms), which would hide what is measured here.
	bin := testcluster.Binary(t, "dfc")
	var took []time.Duration
	list := func() {
		r := testcluster.Run(t, testcluster.Command(bin, dir, "-conf", c.confPath, "list"), "")
		took = append(took, r.Took.Round(time.Millisecond))
		if r.Code != 0 || r.Stderr != "" || !strings.Contains(r.Stdout, "report.txt") || r.Took > 2500*time.Millisecond {
			t.Errorf("list: exit %d after %v: %q %q", r.Code, r.Took, r.Stdout, r.Stderr)
		}
	}
	for time.Since(start) < 10*time.Second {
		list()
		time.Sleep(200 * time.Millisecond)
	}
	refused := 0
	for _, g := range gs {
		refused += g.Stop()
	}
	elapsed := time.Since(start)
	list()
	limit := 4 * refusalsWithin(elapsed)
	slices.Sort(took)
	t.Logf("alice's %d lists took %v to %v (median %v); the guesser got %d refusals from four nodes in %v (the schedule allows %d)",
		len(took), took[0], took[len(took)-1], took[len(took)/2], refused, elapsed.Round(time.Millisecond), limit)
	if refused > limit || refused < 4 {
		t.Errorf("%d refusals in %v; want some, at most %d", refused, elapsed, limit)
	}
}

// refusalsWithin is how many refusals one node gives one address in d at
// most: the reply to the n-th failure in a row waits 250 ms doubling up to
// wire.MaxLoginDelay, and the address's next check starts after it.
func refusalsWithin(d time.Duration) int {
	n, sum := 0, time.Duration(0)
	for delay := wire.MaxLoginDelay >> 5; ; delay = min(2*delay, wire.MaxLoginDelay) {
		if sum += delay; sum > d {
			return n
		}
		n++
	}
}
