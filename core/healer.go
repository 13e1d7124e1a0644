package core

import (
	"context"
	"log/slog"
	"time"
)

// HealerOptions tune RunHealer. Zero values take the defaults.
type HealerOptions struct {
	Check time.Duration // how often nodes are asked whether they are up; default 10s
	Every time.Duration // a full heal at least this often; default 15m
	Rate  int64         // bytes/s heal may copy; default 16 MiB/s
	Log   *slog.Logger
}

// RunHealer heals by itself until ctx ends: within one Check interval of a
// node answering again after it was down (or restarting, which its start
// time shows), and at least every Every. Copies are rate-limited so that
// foreground reads and writes keep most of the bandwidth.
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
	var wasDown [NumNodes]bool
	var started [NumNodes]int64
	last := time.Now()
	retry := "" // set when the last heal left work for later
	t := time.NewTicker(opt.Check)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		reason := retry
		retry = ""
		if time.Since(last) >= opt.Every {
			reason = "periodic check"
		}
		for n := 0; n < NumNodes; n++ {
			cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout+c.cfg.Reply)
			info, err := c.nodeInfo(cctx, n)
			cancel()
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
		if reason == "" || ctx.Err() != nil {
			continue
		}
		last = time.Now()
		rep, err := c.Heal(ctx, HealOptions{Rate: opt.Rate})
		if err != nil || len(rep.InProgress) > 0 || len(rep.Failed) > 0 {
			retry = "previous heal incomplete"
		}
		log.Info("heal", "reason", reason, "files", rep.Files, "chunks_copied", rep.ChunksCopied,
			"updated", rep.Updated, "deletes_replayed", rep.Tombstones, "lost", len(rep.Lost), "err", err)
	}
}
