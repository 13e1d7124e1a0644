package client

import (
	"context"
	"io"
	"testing"
	"time"
)

// TestLimiter: heal's copies go no faster than the rate (a lower bound on
// the time taken, which a machine's load can only lengthen).
func TestLimiter(t *testing.T) {
	l := newLimiter(1 << 20) // 1 MiB/s
	w := l.writer(context.Background(), io.Discard)
	start := time.Now()
	buf := make([]byte, 64<<10)
	for i := 0; i < 8; i++ { // 512 KiB
		if _, err := w.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("512 KiB at 1 MiB/s took %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.writer(ctx, io.Discard).Write(make([]byte, 1<<20)); err == nil {
		t.Errorf("a cancelled heal kept waiting")
	}
	if newLimiter(0).writer(ctx, io.Discard) != io.Discard {
		t.Errorf("rate 0 should not wrap the writer")
	}
}
