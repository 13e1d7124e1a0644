//go:build linux

package mount

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"dfs/core/client"
)

// TestHealthEpisodes: degraded writes warn once per episode; a heal that
// started after the last one and left nothing ends it, an earlier or
// unfinished heal does not; lost files show in the status.
func TestHealthEpisodes(t *testing.T) {
	var log lockedBuffer
	h := NewHealth(slog.New(slog.NewTextHandler(&log, nil)))
	states := []client.NodeState{{Name: "DFS1", Addr: "a:1", Up: true}, {Name: "DFS2", Addr: "a:2", Err: errors.New("connection refused")},
		{Name: "DFS3", Addr: "a:3", Up: true}, {Name: "DFS4", Addr: "a:4", Up: true}}
	h.SetNodes(states)
	degraded := client.PutResult{State: client.StateDegraded, Failed: map[int]error{1: errors.New("connection refused")}}
	warns := func() int { return strings.Count(log.String(), "level=WARN") }

	h.wrote("a", client.PutResult{State: client.StateOK})
	if warns() != 0 {
		t.Fatalf("a whole write warned: %s", log.String())
	}
	before := time.Now()
	for _, name := range []string{"a", "b", "c"} {
		h.wrote(name, degraded)
	}
	if warns() != 1 || !strings.Contains(log.String(), "DFS2: connection refused") {
		t.Fatalf("three degraded writes: want one WARN naming DFS2:\n%s", log.String())
	}
	st := string(h.Status())
	for _, want := range []string{"state: degraded\n", "degraded_writes: 3\n", "node: DFS2 a:2 down since", "(connection refused)", "3 writes with one copy", "last_heal: none"} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
	}
	// A heal that started before the last degraded write, or one that left
	// something, does not end the episode.
	h.Healed(client.HealEvent{Reason: "periodic check", Start: before})
	h.Healed(client.HealEvent{Reason: "DFS2 answers again", Start: time.Now(), Report: client.HealReport{InProgress: []string{"c"}}})
	h.wrote("d", degraded)
	if warns() != 1 {
		t.Fatalf("the episode ended too early:\n%s", log.String())
	}
	states[1] = client.NodeState{Name: "DFS2", Addr: "a:2", Up: true}
	h.SetNodes(states)
	h.Healed(client.HealEvent{Reason: "previous heal incomplete", Start: time.Now(), Report: client.HealReport{Files: 4, ChunksCopied: 8}})
	st = string(h.Status())
	for _, want := range []string{"state: ok\n", "degraded_writes: 4\n", "degraded_since: -\n", "8 chunks copied, 0 lost, 0 left: ok", "node: DFS2 a:2 up"} {
		if !strings.Contains(st, want) {
			t.Errorf("after the heal, status lacks %q:\n%s", want, st)
		}
	}
	if !strings.Contains(log.String(), "two copies restored") {
		t.Errorf("the end of the episode was not logged:\n%s", log.String())
	}
	h.wrote("e", degraded)
	if warns() != 2 {
		t.Errorf("a new episode did not warn:\n%s", log.String())
	}
	h.Healed(client.HealEvent{Reason: "periodic check", Start: time.Now(), Report: client.HealReport{Lost: []string{"x/y"}}})
	if st = string(h.Status()); !strings.Contains(st, "state: lost\n") || !strings.Contains(st, "lost: x/y\n") {
		t.Errorf("lost files are not shown:\n%s", st)
	}
}

// forgedStore is a store whose nodes served what failed authentication.
type forgedStore struct {
	Store
	forged map[int]client.Forged
}

func (s forgedStore) Forged() map[int]client.Forged { return s.forged }

// TestHealthForged: the status file names a node that served entries or
// chunks failing authentication, and the state says so.
func TestHealthForged(t *testing.T) {
	h := NewHealth(nil)
	h.watchForged(forgedStore{forged: map[int]client.Forged{0: {Entries: 2, Chunks: 1, Last: "a/b.txt"}}})
	s := string(h.Status())
	for _, want := range []string{
		"state: forged\n",
		"forged: DFS1 served 2 entries and 1 chunk that failed authentication (last: a/b.txt): its data folder was changed outside dfs; the other copies were used\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("status lacks %q:\n%s", want, s)
		}
	}
}
