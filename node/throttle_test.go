package node

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"dfs/core/wire"
	"dfs/internal/guess"
)

// checkLog is an Accounts that records when each proof was checked (a
// guesser's proof is its guess, see package guess).
type checkLog struct {
	Accounts
	mu sync.Mutex
	at map[string][]time.Time // by proof
}

func (l *checkLog) Check(user string, binding []byte, proof string) (bool, error) {
	l.mu.Lock()
	l.at[proof] = append(l.at[proof], time.Now())
	l.mu.Unlock()
	return l.Accounts.Check(user, binding, proof)
}

func (l *checkLog) times(pw string) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.at[pw])
}

// logChecks makes the node's accounts record their checks.
func logChecks(l **checkLog) func(*Config) {
	return func(c *Config) {
		*l = &checkLog{Accounts: c.Users, at: map[string][]time.Time{}}
		c.Users = *l
	}
}

func TestLoginKeys(t *testing.T) {
	for _, tc := range []struct{ remote, addr string }{
		{"192.0.2.7:4000", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:4000", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:4000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:9", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:9", "fe80::/64"},
		{"pipe", "pipe"},
	} {
		if got := addrKey(tc.remote); got != tc.addr {
			t.Errorf("addrKey(%q) = %q, want %q", tc.remote, got, tc.addr)
		}
	}
	a := loginKeys("alice", "192.0.2.7:1")
	if b := loginKeys("alice", "192.0.2.7:2"); !slices.Equal(a, b) {
		t.Errorf("ports make other keys: %q %q", a, b)
	}
	if b := loginKeys("alice", "192.0.2.8:1"); b[0] == a[0] || b[1] == a[1] {
		t.Errorf("another address shares a key: %q %q", a, b)
	}
	if b := loginKeys("bob", "192.0.2.7:1"); b[0] == a[0] || b[1] != a[1] {
		t.Errorf("another user at the address: %q %q", a, b)
	}
	if x, y := loginKeys("../x", "192.0.2.7:1"), loginKeys("", "192.0.2.7:1"); x[0] != y[0] || x[0] == x[1] {
		t.Errorf("invalid names: %q %q", x, y)
	}
}

func TestLoginDelaySchedule(t *testing.T) {
	th := newThrottle(defaultLoginDelay)
	var got []time.Duration
	for n := 0; n <= 8; n++ {
		got = append(got, th.backoff(n))
	}
	ms := time.Millisecond
	want := []time.Duration{0, 250 * ms, 500 * ms, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	if !slices.Equal(got, want) || th.backoff(1000) != wire.MaxLoginDelay || wire.MaxLoginDelay != 8*time.Second {
		t.Errorf("delays %v, want %v up to wire.MaxLoginDelay", got, want)
	}
}

// entries is the number of keys with failures remembered.
func (t *throttle) entries() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.order.Len()
}

func TestThrottleTableBound(t *testing.T) {
	th := newThrottle(time.Millisecond)
	for i := range loginEntries {
		th.fail(fmt.Sprint(i))
	}
	th.fail("0") // failed again: now the most recent
	if d := th.fail("new"); d != th.backoff(1) || th.entries() != loginEntries {
		t.Fatalf("delay %v, %d entries", d, th.entries())
	}
	// The least recently failed ("1") went to make room; "0" stayed.
	if d := th.fail("1"); d != th.backoff(1) {
		t.Errorf("key 1 kept (delay %v)", d)
	}
	if d := th.fail("0"); d != th.backoff(3) {
		t.Errorf("key 0 lost (delay %v)", d)
	}
	// Forgotten entries go, all of them, full or not: here the oldest
	// thousand are made older than loginForget.
	th.mu.Lock()
	e := th.order.Front()
	for range 1000 {
		f := e.Value.(*failures)
		f.last = f.last.Add(-loginForget)
		e = e.Next()
	}
	th.mu.Unlock()
	th.fail("newer")
	if n := th.entries(); n != loginEntries-1000+1 {
		t.Errorf("%d entries: the forgotten ones stayed", n)
	}
	th.succeed("newer")
	if d := th.fail("newer"); d != th.backoff(1) {
		t.Errorf("a success did not reset its key (delay %v)", d)
	}
}

// TestLoginFailureDelays: a wrong password's reply is held back, doubling
// per failure of the user at the address or of the address; a right one is
// answered at once and resets the user's count, not the address's.
func TestLoginFailureDelays(t *testing.T) {
	guess.NeedHost(t, "127.0.0.2")
	const first = 100 * time.Millisecond
	n := startNode(t, func(c *Config) { c.loginDelay = first })
	refuse := func(from, user string, want time.Duration) {
		t.Helper()
		c := dialFrom(t, from, n.addr)
		start := time.Now()
		wantStatus(t, "auth", c.auth(user, "nope"), wire.StatusAuthFailed)
		if d := time.Since(start); d < want {
			t.Errorf("%s from %s refused after %v, want >= %v", user, from, d, want)
		}
	}
	refuse("127.0.0.1", "bob", first)
	refuse("127.0.0.1", "bob", 2*first)
	refuse("127.0.0.1", "nobody", 4*first) // the address's third failure
	start := time.Now()
	login(t, n.addr, "bob", "Velvet77")
	if d := time.Since(start); d > 600*time.Millisecond {
		t.Errorf("right password after failures took %v; the failures' delay is %v", d, 8*first)
	}
	refuse("127.0.0.1", "bob", 8*first) // the address was not reset
	refuse("127.0.0.2", "bob", first)   // another address starts afresh
}

// TestLoginParallelGuessing: many connections from one address guessing
// one user's password, then many users', get no more checks than the
// documented schedule allows one connection (each check waits for the
// previous failure's delay), while the user logs in at once from her own
// address throughout.
func TestLoginParallelGuessing(t *testing.T) {
	guess.NeedHost(t, "127.0.0.2")
	guess.NeedHost(t, "127.0.0.3")
	// The default schedule scaled down 25 times (10 ms doubling to 320 ms),
	// so that a few seconds reach its steady rate, one check per largest
	// delay.
	const first = 10 * time.Millisecond
	var checks *checkLog
	n := startNode(t, func(c *Config) { c.loginDelay = first; logChecks(&checks)(c) })
	sched := newThrottle(first)

	var slowest time.Duration
	logins := 0
	measure := func(g *guess.Guesser, run time.Duration) int {
		for end := time.Now().Add(run); time.Now().Before(end); {
			start := time.Now()
			c := login(t, n.addr, "alice", "Crimson33")
			c.nc.Close()
			slowest = max(slowest, time.Since(start))
			logins++
			time.Sleep(50 * time.Millisecond)
		}
		return g.Stop()
	}
	check := func(what, pw string, refused int) {
		t.Helper()
		at := checks.times(pw)
		for i := 1; i < len(at); i++ {
			if gap, min := at[i].Sub(at[i-1]), sched.backoff(i); gap < min {
				t.Errorf("%s: check %d came %v after the one before, want >= %v", what, i+1, gap, min)
			}
		}
		span := at[len(at)-1].Sub(at[0])
		t.Logf("%s: %d checks in %v, %d refusals; steady limit %.1f/s", what, len(at), span.Round(time.Millisecond),
			refused, float64(time.Second)/float64(sched.backoff(loginSteps+1)))
		if len(at) < loginSteps+3 {
			t.Errorf("%s: only %d checks: the guessing did not reach the steady rate", what, len(at))
		}
	}

	g := guess.Start(guess.From("127.0.0.2", n.addr, nil), []string{"alice"}, "guess1", 16)
	check("one user, 16 connections", "guess1", measure(g, 3*time.Second))
	users := []string{"alice", "bob", "carol", "dave", "nobody"} // valid names: each is checked, and logged
	g = guess.Start(guess.From("127.0.0.3", n.addr, nil), users, "guess2", 16)
	check("five users, 16 connections", "guess2", measure(g, 3*time.Second))

	t.Logf("alice from 127.0.0.1: %d logins, slowest %v", logins, slowest)
	if slowest > time.Second {
		t.Errorf("alice's login took %v while others guessed", slowest)
	}
}
