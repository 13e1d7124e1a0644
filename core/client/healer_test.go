package client_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"dfs/core/client"
	"dfs/internal/testcluster"
)

// TestHealerHealsReturningNode: with the healer running (as inside
// dfsmount), a node that was down during puts is healed soon after it comes
// back, with no command.
func TestHealerHealsReturningNode(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go cl.RunHealer(ctx, client.HealerOptions{Check: 200 * time.Millisecond})
	c.Stop(2)
	data := randBytes(t, 50_000)
	mustPut(t, cl, "f", data)
	time.Sleep(500 * time.Millisecond) // the healer sees DFS3 down
	c.Restart(2)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := cl.Status(ctxT(t))
		if err == nil && r.OK() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healed 30 s after the node returned: %v %s", err, r.Summary(cl))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The healed DFS3 with DFS1 holds every chunk: read with the others down.
	c.Stop(1)
	c.Stop(3)
	mustGet(t, cl, "f", data)
}

// TestHealerHealsBlankReplacement: a node replaced by a blank one between
// two checks (never seen down) is noticed by its new start time and healed.
func TestHealerHealsBlankReplacement(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	data := randBytes(t, 50_000)
	mustPut(t, cl, "f", data)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go cl.RunHealer(ctx, client.HealerOptions{Check: 500 * time.Millisecond, Every: time.Hour})
	time.Sleep(700 * time.Millisecond) // the healer has seen every node's start time
	c.Wipe(1)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := cl.Status(ctxT(t))
		if err == nil && r.OK() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("blank DFS2 not healed: %v %s", err, r.Summary(cl))
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.Stop(0)
	c.Stop(2) // DFS2+DFS4 alone
	mustGet(t, cl, "f", data)
}

// syncBuffer is a log sink the healer and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// heals counts the healer's heal records so far.
func (s *syncBuffer) heals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), "msg=heal ")
}

// TestHealerSettles: once a heal has brought everything in line (here a
// folder made while DFS1 was down, which DFS1 then made itself for a file
// written into it), the healer does not heal again until something
// happens; it used to heal everything again at every check, failing.
func TestHealerSettles(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	if _, err := cl.Mkdir(ctxT(t), "p", 0o755); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const check = 300 * time.Millisecond
	go cl.RunHealer(ctx, client.HealerOptions{Check: check, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	c.Stop(0)
	if _, err := cl.Mkdir(ctxT(t), "p/d", 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * check) // the healer sees DFS1 down
	c.Restart(0)
	mustPut(t, cl, "p/d/f", randBytes(t, 5000))
	deadline := time.Now().Add(30 * time.Second)
	for logs.heals() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no heal 30 s after DFS1 returned")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(check) // a heal that started meanwhile has logged
	n := logs.heals()
	time.Sleep(4 * check)
	if more := logs.heals() - n; more > 0 {
		logs.mu.Lock()
		t.Errorf("%d heals after everything was healed:\n%s", more, logs.b.String())
		logs.mu.Unlock()
	}
	mustStatus(t, cl, true)
	noWork(t, mustHeal(t, cl))
}
