package main

import (
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressMin is the smallest transfer that gets a progress bar.
const progressMin = 4 << 20

// progress draws a transfer's progress bar on stderr. A nil *progress draws
// nothing, so callers need not check.
type progress struct {
	mu    sync.Mutex // guards bar and shown: core reports from several goroutines
	bar   *progressbar.ProgressBar
	shown int64
}

// wantProgress reports whether a bar may be drawn at all: only on a terminal,
// never into a pipe or a file.
func (e *env) wantProgress() bool {
	f, ok := e.stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress returns a bar for a transfer of size bytes, or nil when stderr
// is not a terminal or the transfer is small.
func (e *env) newProgress(size int64, desc string) *progress {
	if size <= progressMin || !e.wantProgress() {
		return nil
	}
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(e.stderr),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowBytes(true), // bytes and rate (MB/s)
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
	)
	return &progress{bar: bar}
}

// report returns the callback for core's Progress, or nil.
func (p *progress) report() func(done int64) {
	if p == nil {
		return nil
	}
	return func(done int64) {
		p.mu.Lock()
		defer p.mu.Unlock()
		// Chunks finish out of order: only ever move forward.
		if done > p.shown {
			p.shown = done
			p.bar.Set64(done)
		}
	}
}

// finish erases the bar, so that the result or error line starts clean.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.Exit()
	p.bar.Clear()
}
