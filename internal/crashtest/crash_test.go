package crashtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// cluster is four dfsnode processes and a dfc.conf for alice.
type cluster struct {
	*testcluster.Cluster
	t        *testing.T
	dfc      string // the built dfc, without -race: it would slow every round
	confPath string
}

func startCluster(t *testing.T) *cluster {
	c := &cluster{Cluster: testcluster.Start(t, testcluster.Processes()), t: t,
		dfc: testcluster.Binary(t, "dfc"), confPath: filepath.Join(t.TempDir(), "dfc.conf")}
	c.WriteClientConf(t, c.confPath, "alice", testcluster.Users["alice"])
	return c
}

// dfcCmd returns the command running dfc -conf confPath ARGS in dir.
func (c *cluster) dfcCmd(dir string, args ...string) *exec.Cmd {
	return testcluster.Command(c.dfc, dir, append([]string{"-conf", c.confPath}, args...)...)
}

// mustDfc runs dfc and fails the test unless it exits 0.
func (c *cluster) mustDfc(dir string, args ...string) testcluster.Result {
	c.t.Helper()
	r := testcluster.Run(c.t, c.dfcCmd(dir, args...), "")
	if r.Code != 0 {
		c.t.Fatalf("dfc %v: exit %d\nstdout: %s\nstderr: %s", args, r.Code, r.Stdout, r.Stderr)
	}
	return r
}

// config is a client configuration for alice.
func (c *cluster) config() client.Config { return c.Config("alice", testcluster.Users["alice"]) }

// seed returns the run's seed: DFS_CRASH_SEED, or a new one.
func seed(t *testing.T) uint64 {
	t.Helper()
	s := uint64(time.Now().UnixNano())
	if v := os.Getenv("DFS_CRASH_SEED"); v != "" {
		var err error
		if s, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("DFS_CRASH_SEED=%q: %v", v, err)
		}
	}
	t.Logf("seed %d (replay with DFS_CRASH_SEED=%d)", s, s)
	return s
}

// tester holds a test's randomness, all drawn from the seed.
type tester struct {
	rng  *rand.Rand
	data *rand.ChaCha8
}

func newTester(t *testing.T) *tester {
	s := seed(t)
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], s)
	return &tester{rng: rand.New(rand.NewPCG(s, 0x6372617368)), data: rand.NewChaCha8(key)}
}

// content returns min..max bytes of seeded random data.
func (r *tester) content(min, max int) []byte {
	b := make([]byte, min+r.rng.IntN(max-min+1))
	r.data.Read(b)
	return b
}

func (r *tester) delay(span time.Duration) time.Duration {
	return time.Duration(r.rng.Int64N(int64(span)))
}

// killSpan measures put (of a file as large as the largest one the test
// writes) and returns the range kill delays are drawn from: a little more
// than the median of three whole puts here, so that kills land in every
// phase of a put on a fast or a slow machine.
func killSpan(t *testing.T, put func()) time.Duration {
	t.Helper()
	var took []time.Duration
	for range 3 {
		start := time.Now()
		put()
		took = append(took, time.Since(start))
	}
	sorted := slices.Clone(took)
	slices.Sort(sorted)
	span := sorted[1] * 6 / 5
	t.Logf("whole puts took %v: kill delays drawn from [0, %v)", took, span)
	return span
}

func describe(b, old, new []byte) string {
	switch {
	case bytes.Equal(b, old):
		return "old"
	case bytes.Equal(b, new):
		return "new"
	}
	return fmt.Sprintf("neither (%d bytes; old %d, new %d)", len(b), len(old), len(new))
}

// TestKillClientDuringPut kills dfc at random moments of a put that
// replaces a file: the file must stay readable as the old or the new
// version, whole, and no other name may appear.
func TestKillClientDuringPut(t *testing.T) {
	r := newTester(t)
	c := startCluster(t)
	work := t.TempDir()
	src := filepath.Join(work, "new.bin")
	got := filepath.Join(work, "got")

	calib := r.content(8<<20, 8<<20)
	if err := os.WriteFile(src, calib, 0o600); err != nil {
		t.Fatal(err)
	}
	span := killSpan(t, func() { c.mustDfc(work, "put", "-as", "f", "new.bin") })

	const rounds = 12
	tally := map[string]int{}
	for round := 0; round < rounds; round++ {
		old := r.content(1<<20, 2<<20)
		if err := os.WriteFile(filepath.Join(work, "old.bin"), old, 0o600); err != nil {
			t.Fatal(err)
		}
		c.mustDfc(work, "put", "-as", "f", "old.bin")
		new := r.content(4<<20, 8<<20)
		if err := os.WriteFile(src, new, 0o600); err != nil {
			t.Fatal(err)
		}
		d := r.delay(span)
		finished, code, err := testcluster.KillAfter(c.dfcCmd(work, "put", "-as", "f", "new.bin"), d)
		if err != nil {
			t.Fatal(err)
		}

		os.Remove(got)
		c.mustDfc(work, "get", "f", "got")
		b, err := os.ReadFile(got)
		if err != nil {
			t.Fatal(err)
		}
		what := describe(b, old, new)
		t.Logf("round %d: kill after %v: finished=%v exit=%d; f reads %s", round, d, finished, code, what)
		switch {
		case what == "new":
		case what == "old" && !(finished && code == 0):
		default:
			t.Fatalf("round %d: dfc put killed after %v (finished %v, exit %d): f reads %s", round, d, finished, code, what)
		}
		tally[fmt.Sprintf("finished=%v reads=%s", finished, what)]++

		out := c.mustDfc(work, "list")
		for _, line := range strings.Split(strings.TrimSpace(out.Stdout), "\n") {
			f := strings.Fields(line)
			if len(f) < 4 || f[3] != "f" || strings.Contains(line, "[incomplete]") {
				t.Fatalf("round %d: list shows %q:\n%s", round, line, out.Stdout)
			}
			if strings.Contains(line, "[degraded]") {
				tally["listed degraded"]++ // killed between the commit waves
			}
		}
	}
	t.Logf("outcomes: %v", tally)

	heal(t, c)
	if r := testcluster.Run(t, c.dfcCmd(work, "status"), ""); r.Code != 0 {
		t.Fatalf("status after heal: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// heal heals the cluster until no entry is left in progress. A dfc killed
// between its two commit waves leaves a newer version on DFS1+DFS3 only,
// which heal leaves alone until the writer must be dead; the client here
// uses short timeouts so that moment (4*(IOTimeout+Reply)) comes soon.
func heal(t *testing.T, c *cluster) {
	t.Helper()
	cfg := c.config()
	cfg.IOTimeout, cfg.Reply = 4*time.Second, 2*time.Second
	cl := testcluster.NewClient(t, cfg)
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		rep, err := cl.Heal(ctx, client.HealOptions{})
		if err != nil {
			t.Fatalf("heal: %v", err)
		}
		if len(rep.Failed) > 0 || len(rep.Lost) > 0 {
			t.Fatalf("heal: failed nodes %v, lost %v", rep.Failed, rep.Lost)
		}
		if len(rep.InProgress) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("heal: still in progress after 2 minutes: %v", rep.InProgress)
		}
		t.Logf("heal: %v in progress (a writer killed mid-commit); retrying", rep.InProgress)
		time.Sleep(2 * time.Second)
	}
}

// TestKillNodeDuringPut kills a random node at a random moment of a put and
// restarts it once the put returned: an acknowledged put must read back
// exactly, a failed one as the old or the new version, and after heal the
// restarted node must serve only good chunks (each pair of nodes alone,
// DFS1+DFS3 and DFS2+DFS4, holds every chunk once, so each is read alone).
func TestKillNodeDuringPut(t *testing.T) {
	r := newTester(t)
	c := startCluster(t)
	cl := testcluster.NewClient(t, c.config())
	ctx := context.Background()
	put := func(data []byte) error {
		_, err := cl.Put(ctx, "f", bytes.NewReader(data), int64(len(data)), client.PutOptions{})
		return err
	}
	read := func() []byte {
		t.Helper()
		b, err := testcluster.Get(ctx, cl, "f")
		if err != nil {
			t.Fatalf("get f: %v", err)
		}
		return b
	}

	calib := r.content(6<<20, 6<<20)
	span := killSpan(t, func() {
		if err := put(calib); err != nil {
			t.Fatal(err)
		}
	})

	const rounds = 8
	for round := 0; round < rounds; round++ {
		old := r.content(1<<20, 2<<20)
		if err := put(old); err != nil {
			t.Fatalf("round %d: put old: %v", round, err)
		}
		new := r.content(2<<20, 6<<20)
		victim := r.rng.IntN(core.NumNodes)
		d := r.delay(span)
		done := make(chan error, 1)
		go func() { done <- put(new) }()
		time.Sleep(d)
		c.Kill(victim)
		putErr := <-done
		c.Restart(victim)

		b := read()
		what := describe(b, old, new)
		t.Logf("round %d: %s killed after %v: put err %v; f reads %s", round, core.NodeName(victim), d, putErr, what)
		want := new
		switch {
		case what == "new":
		case what == "old" && putErr != nil:
			want = old
		default:
			t.Fatalf("round %d: %s killed after %v, put returned %v: f reads %s", round, core.NodeName(victim), d, putErr, what)
		}

		rep, err := cl.Heal(ctx, client.HealOptions{})
		if err != nil || len(rep.Failed) > 0 || len(rep.Lost) > 0 || len(rep.InProgress) > 0 {
			t.Fatalf("round %d: heal: %v; failed %v, lost %v, in progress %v", round, err, rep.Failed, rep.Lost, rep.InProgress)
		}
		st, err := cl.Status(ctx)
		if err != nil || !st.OK() {
			t.Fatalf("round %d: status after heal: %v\n%s", round, err, st.Summary(cl))
		}
		for _, n := range st.Nodes {
			if n.Info.Quarantine != 0 {
				t.Fatalf("round %d: %s quarantined %d bad chunks", round, n.Name, n.Info.Quarantine)
			}
		}
		for pair := 0; pair < 2; pair++ {
			others := []int{1 - pair, 3 - pair}
			for _, n := range others {
				c.Kill(n)
			}
			b := read()
			for _, n := range others {
				c.Restart(n)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("round %d: with only %s and %s up, f reads %s", round,
					core.NodeName(pair), core.NodeName(pair+2), describe(b, old, new))
			}
		}
	}
}
