package client

import (
	"context"
	"io"
	"sync"
	"time"
)

// limiter spreads writes out to at most rate bytes per second (0 = no cap).
type limiter struct {
	rate  int64
	mu    sync.Mutex // guards start, sent
	start time.Time
	sent  int64
}

func newLimiter(rate int64) *limiter { return &limiter{rate: rate, start: time.Now()} }

// wait blocks until n more bytes fit under the rate.
func (l *limiter) wait(ctx context.Context, n int) error {
	if l == nil || l.rate <= 0 {
		return nil
	}
	l.mu.Lock()
	l.sent += int64(n)
	due := l.start.Add(time.Duration(float64(l.sent) / float64(l.rate) * float64(time.Second)))
	l.mu.Unlock()
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *limiter) writer(ctx context.Context, w io.Writer) io.Writer {
	if l == nil || l.rate <= 0 {
		return w
	}
	return limitedWriter{ctx: ctx, l: l, w: w}
}

type limitedWriter struct {
	ctx context.Context
	l   *limiter
	w   io.Writer
}

func (lw limitedWriter) Write(p []byte) (int, error) {
	if err := lw.l.wait(lw.ctx, len(p)); err != nil {
		return 0, err
	}
	return lw.w.Write(p)
}
