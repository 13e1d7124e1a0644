package mount

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"dfs/core"
	"dfs/core/client"
)

// Health is what a mount knows about the cluster's redundancy: which nodes
// answer, how many files it stored with one copy of some chunk (degraded),
// and how the last heal went. The mount shows it in its status file
// (status.go); dfsmount feeds it the node states from its first contact
// and from the healer (SetNodes, Healed).
//
// A degraded write is logged at WARN once per episode, not once per write:
// an episode starts with the first degraded write and ends when a heal that
// started after the last one finishes with nothing left, failed or lost,
// since only then does every file have its two copies again.
type Health struct {
	log     *slog.Logger
	started time.Time

	mu       sync.Mutex // guards everything below
	nodes    []nodeHealth
	checked  time.Time // when nodes were last asked
	degraded int       // degraded writes since mount
	episode  episode
	lastHeal *client.HealEvent
	lost     []string // files the last heal found lost

	// forged returns what nodes served that failed authentication
	// (client.Client.Forged); nil: nothing to ask.
	forged func() map[int]client.Forged
}

// forgedSource is a store that counts what nodes served that failed
// authentication (*client.Client).
type forgedSource interface {
	Forged() map[int]client.Forged
}

// watchForged makes the status file show what the store's nodes served
// that failed authentication, if it counts that.
func (h *Health) watchForged(store Store) {
	if s, ok := store.(forgedSource); ok {
		h.mu.Lock()
		h.forged = s.Forged
		h.mu.Unlock()
	}
}

type nodeHealth struct {
	name, addr string
	up         bool
	since      time.Time // when up last changed (or was first learned)
	err        string
}

// episode is a run of degraded writes not yet healed.
type episode struct {
	open   bool
	since  time.Time // first degraded write
	last   time.Time // latest degraded write
	writes int
}

// NewHealth returns the health of a mount that logs to log (nil: nowhere).
func NewHealth(log *slog.Logger) *Health {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := &Health{log: log, started: time.Now()}
	for n := range core.NumNodes {
		h.nodes = append(h.nodes, nodeHealth{name: fmt.Sprintf("DFS%d", n+1)})
	}
	return h
}

// SetNodes records the nodes' states, as client.Ping and the healer's
// checks give them.
func (h *Health) SetNodes(states []client.NodeState) {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checked = now
	for i, s := range states {
		if i >= len(h.nodes) {
			break
		}
		n := &h.nodes[i]
		if n.since.IsZero() || n.up != s.Up {
			n.since = now
		}
		n.name, n.addr, n.up, n.err = s.Name, s.Addr, s.Up, ""
		if s.Err != nil {
			n.err = s.Err.Error()
		}
	}
}

// Healed records a heal's outcome and ends the degraded episode when the
// heal restored everything written before it started.
func (h *Health) Healed(ev client.HealEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastHeal = &ev
	h.lost = ev.Report.Lost
	clean := ev.Err == nil && len(ev.Report.Failed) == 0 && len(ev.Report.Left()) == 0 && len(ev.Report.Lost) == 0
	if h.episode.open && clean && ev.Start.After(h.episode.last) {
		h.log.Info("two copies restored: the files written with one copy are healed",
			"degraded_writes", h.episode.writes, "since", h.episode.since.Format(time.RFC3339))
		h.episode = episode{}
	}
}

// wrote records a file the mount stored.
func (h *Health) wrote(name string, res client.PutResult) {
	if res.State != client.StateDegraded {
		return
	}
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.degraded++
	var why []string
	for n, err := range res.Failed {
		if n >= 0 && n < len(h.nodes) {
			msg := err.Error()
			if !strings.Contains(msg, h.nodes[n].name) {
				msg = h.nodes[n].name + ": " + msg
			}
			why = append(why, msg)
		}
	}
	if !h.episode.open {
		h.episode = episode{open: true, since: now}
		h.log.Warn("degraded write: stored with one copy of some chunks; a node failing now loses it until heal restores the second copy "+
			"(logged once until then; the count is in "+StatusName+")",
			"file", name, "nodes", strings.Join(why, "; "))
	}
	h.episode.last = now
	h.episode.writes++
}

// Status renders the status file: "key: value" lines, stable for scripts.
func (h *Health) Status() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	var forged map[int]client.Forged
	if h.forged != nil {
		forged = h.forged()
	}
	state := "ok"
	down := 0
	for _, n := range h.nodes {
		if !n.up {
			down++
		}
	}
	switch {
	case len(h.lost) > 0:
		state = "lost" // files no heal can restore
	case len(forged) > 0:
		state = "forged" // a node's data folder was changed outside dfs
	case h.episode.open || down > 0:
		state = "degraded"
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(&b, "state: %s\n", state)
	fmt.Fprintf(&b, "mounted: %s\n", ts(h.started))
	fmt.Fprintf(&b, "nodes_checked: %s\n", ts(h.checked))
	for _, n := range h.nodes {
		s := "up"
		if !n.up {
			s = "down"
		}
		if h.checked.IsZero() {
			s = "unknown"
		}
		line := fmt.Sprintf("node: %s %s %s since %s", n.name, n.addr, s, ts(n.since))
		if n.err != "" {
			line += " (" + oneLine(n.err) + ")"
		}
		b.WriteString(line + "\n")
	}
	fmt.Fprintf(&b, "degraded_writes: %d\n", h.degraded)
	if h.episode.open {
		fmt.Fprintf(&b, "degraded_since: %s (%d writes with one copy of some chunks; the next heal that finishes restores them)\n",
			ts(h.episode.since), h.episode.writes)
	} else {
		b.WriteString("degraded_since: -\n")
	}
	if ev := h.lastHeal; ev == nil {
		b.WriteString("last_heal: none since mount\n")
	} else {
		r := ev.Report
		result := "ok"
		if ev.Err != nil {
			result = oneLine(ev.Err.Error())
		}
		fmt.Fprintf(&b, "last_heal: %s (%s): %d files, %d chunks copied, %d lost, %d left: %s\n",
			ts(ev.Start), ev.Reason, r.Files, r.ChunksCopied, len(r.Lost), len(r.Left()), result)
	}
	for _, name := range h.lost {
		fmt.Fprintf(&b, "lost: %s\n", name)
	}
	for n, nh := range h.nodes {
		if f, ok := forged[n]; ok {
			fmt.Fprintf(&b, "forged: %s\n", f.Report(nh.name))
		}
	}
	return []byte(b.String())
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// watched is the draft the mount writes through: it tells the mount's
// Health about every version committed with one copy of some chunk.
type watched struct {
	draft
	h *Health
}

func (w watched) Commit(ctx context.Context, size int64, opt client.PutOptions) (client.PutResult, error) {
	res, err := w.draft.Commit(ctx, size, opt)
	if err == nil {
		w.h.wrote(w.Name(), res)
	}
	return res, err
}
