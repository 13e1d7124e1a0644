package node

import (
	"container/list"
	"net"
	"net/netip"
	"sync"
	"time"

	"dfs/core/wire"
	"dfs/node/store"
)

// Failed logins are throttled per key: the user at an address, and the
// address alone (an IPv6 address by its /64, which one host usually has
// whole). The password is checked first, so a right one is never held
// back by failures from other addresses; the reply to a wrong one is held back
// backoff(n) after the n-th failure in a row of either key. A key has at
// most one check outstanding, from its start to that reply, so parallel
// connections guess no faster than one: after six failures, one check
// every wire.MaxLoginDelay per address (docs/security.md, Logins). That
// includes the right password of someone else at the same address (behind
// one NAT, or in one IPv6 /64): it waits for its turn behind a refusal
// being held back, and after the login timeout gets "node busy".
//
// The user key limits guessing one user's password; the address key
// limits guessing many users' from one place. Only the user key is reset
// by a success: an attacker's own account must not clear the address's
// count.
const (
	loginSteps   = 5                // the delay doubles this many times, up to wire.MaxLoginDelay
	loginForget  = 15 * time.Minute // a key's failures are forgotten this long after its last
	loginEntries = 10000            // keys with failures remembered; the least recently failed goes first
)

// defaultLoginDelay is the delay after a key's first failure (250 ms).
const defaultLoginDelay = wire.MaxLoginDelay >> loginSteps

// failures is a key's run of failed logins.
type failures struct {
	key  string
	n    int
	last time.Time
}

// throttle holds the failed-login counts, at most loginEntries of them,
// and the keys with a check outstanding.
type throttle struct {
	first time.Duration // the delay after one failure; it doubles loginSteps times

	mu    sync.Mutex               // guards the fields below
	byKey map[string]*list.Element // of *failures, in order
	order list.List                // *failures, least recently failed first
	busy  map[string]chan struct{} // keys with a check outstanding; the channel closes when it ends
}

func newThrottle(first time.Duration) *throttle {
	return &throttle{first: first, byKey: map[string]*list.Element{}, busy: map[string]chan struct{}{}}
}

// loginKeys returns the throttle's keys for a login as user from remote
// (host:port): the user at the address first, then the address. Names that
// are not valid user names share one key: none of them can log in.
func loginKeys(user, remote string) []string {
	if !store.ValidUser(user) {
		user = "\x00" // never a valid name
	}
	a := addrKey(remote)
	return []string{"u\x00" + user + "\x00" + a, "a\x00" + a}
}

// addrKey is the address part of a throttle key: the IP without the port,
// and for IPv6 the /64 it is in.
func addrKey(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}

// backoff is the delay of the reply to the n-th failure in a row.
func (t *throttle) backoff(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	return t.first << min(n-1, loginSteps)
}

// acquire waits until no check is outstanding on any of keys and claims
// them all for the caller's, which ends when it calls release. It gives up
// (false) when done closes or timeout fires.
func (t *throttle) acquire(keys []string, done <-chan struct{}, timeout <-chan time.Time) (release func(), ok bool) {
	for {
		t.mu.Lock()
		var held chan struct{}
		for _, k := range keys {
			if held = t.busy[k]; held != nil {
				break
			}
		}
		if held == nil {
			mine := make(chan struct{})
			for _, k := range keys {
				t.busy[k] = mine
			}
			t.mu.Unlock()
			return func() {
				t.mu.Lock()
				for _, k := range keys {
					delete(t.busy, k)
				}
				t.mu.Unlock()
				close(mine)
			}, true
		}
		t.mu.Unlock()
		select {
		case <-held:
		case <-done:
			return nil, false
		case <-timeout:
			return nil, false
		}
	}
}

// fail records a failed login for each key and returns how long its reply
// waits: backoff of the longest run among them.
func (t *throttle) fail(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	n := 0
	for _, k := range keys {
		var f *failures
		if e := t.byKey[k]; e != nil {
			f = e.Value.(*failures)
			if now.Sub(f.last) >= loginForget {
				f.n = 0
			}
			t.order.MoveToBack(e)
		} else {
			t.makeRoom(now)
			f = &failures{key: k}
			t.byKey[k] = t.order.PushBack(f)
		}
		f.n++
		f.last = now
		n = max(n, f.n)
	}
	return t.backoff(n)
}

// succeed forgets key's failures.
func (t *throttle) succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.byKey[key]; e != nil {
		t.order.Remove(e)
		delete(t.byKey, key)
	}
}

// makeRoom drops the forgotten entries, then the least recently failed
// ones while the table is full. t.mu is held.
func (t *throttle) makeRoom(now time.Time) {
	for e := t.order.Front(); e != nil; e = t.order.Front() {
		f := e.Value.(*failures)
		if now.Sub(f.last) < loginForget && t.order.Len() < loginEntries {
			return
		}
		t.order.Remove(e)
		delete(t.byKey, f.key)
	}
}
