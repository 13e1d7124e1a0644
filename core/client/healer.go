package client

import (
	"context"
	"dfs/core"
	"log/slog"
	"time"
)

// HealerOptions tune RunHealer. Zero values take the defaults.
type HealerOptions struct {
	Check time.Duration // how often nodes are asked whether they are up; default 10s
	Every time.Duration // a full heal at least this often; default 15m
	Rate  int64         // bytes/s heal may copy; default 16 MiB/s
	Log   *slog.Logger

	// Checked, when set, gets every node's state after each check (Info
	// left empty), so that a mount can show which nodes answer.
	Checked func([]NodeState)
	// Healed, when set, gets every heal's outcome.
	Healed func(HealEvent)
}

// HealEvent is one heal RunHealer ran.
type HealEvent struct {
	Reason string // why it ran: "DFS2 answers again", "periodic check", ...
	Start  time.Time
	Report HealReport
	Err    error
}

// RunHealer heals by itself until ctx ends: within one Check interval of a
// node answering again after it was down (or restarting, which its start
// time shows), and at least every Every. Copies are rate-limited so that
// foreground reads and writes keep most of the bandwidth.
//
// Those heals walk everything. What one leaves unfinished (entries that
// failed or were being written) is retried at the next check by name
// alone, so a retry costs what was left, not the tree; a node that stopped
// answering during a heal counts as down and gets a whole heal when it
// answers again.
func (c *Client) RunHealer(ctx context.Context, opt HealerOptions) {
	if opt.Check <= 0 {
		opt.Check = 10 * time.Second
	}
	if opt.Every <= 0 {
		opt.Every = 15 * time.Minute
	}
	if opt.Rate <= 0 {
		opt.Rate = 16 << 20
	}
	log := opt.Log
	if log == nil {
		log = c.log
	}
	var wasDown [core.NumNodes]bool
	var started [core.NumNodes]int64
	last := time.Now()
	var left []string // what the last heal did not finish
	t := time.NewTicker(opt.Check)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		reason := ""
		if time.Since(last) >= opt.Every {
			reason = "periodic check"
		}
		states := make([]NodeState, core.NumNodes)
		for n := 0; n < core.NumNodes; n++ {
			if c.nodes[n].missed.Swap(false) {
				wasDown[n] = true // a request failed since the last check: maybe down between two checks
			}
			cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout+c.cfg.Reply)
			info, err := c.nodeInfo(cctx, n)
			cancel()
			states[n] = NodeState{Name: c.nodes[n].name, Addr: c.nodes[n].addr, Up: err == nil, Err: err}
			switch {
			case err != nil:
				wasDown[n] = true
			case wasDown[n]:
				wasDown[n] = false
				reason = c.nodes[n].name + " answers again"
			case started[n] != 0 && info.Started != started[n]:
				reason = c.nodes[n].name + " restarted"
			}
			if err == nil {
				started[n] = info.Started
			}
		}
		if opt.Checked != nil && ctx.Err() == nil {
			opt.Checked(states)
		}
		var names []string
		if reason == "" && len(left) > 0 {
			reason, names = "previous heal incomplete", left
		}
		if reason == "" || ctx.Err() != nil {
			continue
		}
		if names == nil {
			last = time.Now()
		}
		start := time.Now()
		healed := c.cfg.Metrics.healStarted()
		rep, err := c.Heal(ctx, HealOptions{Rate: opt.Rate, Names: names})
		healed(&rep, err)
		left = rep.Left()
		for n := range rep.Failed {
			wasDown[n] = true
		}
		logHeal(log, reason, rep, err)
		if opt.Healed != nil {
			opt.Healed(HealEvent{Reason: reason, Start: start, Report: rep, Err: err})
		}
	}
}

// logHeal logs a heal's outcome: at ERROR when it found files no node can
// restore (every copy of a chunk gone), which no later heal will fix.
func logHeal(log *slog.Logger, reason string, rep HealReport, err error) {
	args := []any{"reason", reason, "files", rep.Files, "chunks_copied", rep.ChunksCopied,
		"updated", rep.Updated, "deletes_replayed", rep.Tombstones, "lost", len(rep.Lost),
		"left", len(rep.Left()), "err", err}
	if len(rep.Lost) == 0 {
		log.Info("heal", args...)
		return
	}
	const show = 10
	lost := rep.Lost[:min(len(rep.Lost), show)]
	log.Error("heal found lost files: a chunk has no copy on any node", append(args, "lost_files", lost)...)
}
