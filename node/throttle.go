package node

import (
	"sync"
	"time"
)

// Failed logins are throttled per user and per remote IP: after n
// consecutive failures the next attempt waits throttleBase*2^(n-1), at most
// throttleMax. A success resets the user's and the address' count.
const (
	throttleBase    = 250 * time.Millisecond
	throttleMax     = 8 * time.Second
	throttleForget  = 15 * time.Minute
	throttleEntries = 10000
)

type failures struct {
	n    int
	last time.Time
}

// throttle counts recent failed logins in a bounded map.
type throttle struct {
	mu sync.Mutex // guards m
	m  map[string]*failures
}

func newThrottle() *throttle { return &throttle{m: map[string]*failures{}} }

// delay returns how long an attempt for these keys must wait.
func (t *throttle) delay(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	now := time.Now()
	for _, k := range keys {
		if f, ok := t.m[k]; ok && now.Sub(f.last) < throttleForget {
			n = max(n, f.n)
		}
	}
	return backoff(n)
}

// backoff is the wait after n consecutive failures.
func backoff(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	if n > 6 {
		return throttleMax
	}
	return min(throttleBase<<(n-1), throttleMax)
}

// fail records a failed attempt for each key.
func (t *throttle) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	for _, k := range keys {
		f, ok := t.m[k]
		if !ok {
			t.makeRoom(now)
			f = &failures{}
			t.m[k] = f
		} else if now.Sub(f.last) >= throttleForget {
			f.n = 0
		}
		f.n++
		f.last = now
	}
}

// succeed forgets the keys' failures.
func (t *throttle) succeed(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		delete(t.m, k)
	}
}

// makeRoom drops forgotten entries when the map is full, and one arbitrary
// entry if that was not enough. t.mu is held.
func (t *throttle) makeRoom(now time.Time) {
	if len(t.m) < throttleEntries {
		return
	}
	for k, f := range t.m {
		if now.Sub(f.last) >= throttleForget {
			delete(t.m, k)
		}
	}
	for k := range t.m {
		if len(t.m) < throttleEntries {
			break
		}
		delete(t.m, k)
	}
}
