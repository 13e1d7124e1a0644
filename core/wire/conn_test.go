package wire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// Streams that take three times the idle time succeed while data keeps
// flowing, in both directions, and fail soon after the peer goes silent.
func TestIdleRenewsDeadline(t *testing.T) {
	const idle, pause, frames = 200 * time.Millisecond, 100 * time.Millisecond, 6
	piece := bytes.Repeat([]byte("x"), 128<<10) // past the 64 KiB buffer: writes reach the pipe

	t.Run("receive", func(t *testing.T) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		ca, cb := NewConn(a), NewConn(b)
		cb.SetIdle(idle)
		cb.SetDeadline(time.Now().Add(idle)) // as a request's caller does
		go func() {
			for range frames {
				time.Sleep(pause)
				ca.WriteData(piece)
				ca.Flush()
			}
			ca.WriteEnd()
			ca.Flush()
		}()
		n, err := cb.RecvStream(io.Discard, frames*int64(len(piece)))
		if err != nil || n != frames*int64(len(piece)) {
			t.Fatalf("a stream trickling for %v with %v idle allowed: %d bytes, %v", frames*pause, idle, n, err)
		}
		start := time.Now()
		_, err = cb.RecvStream(io.Discard, 1) // the peer sends nothing more
		if !isTimeout(err) || time.Since(start) > 10*idle {
			t.Fatalf("a silent peer: %v after %v", err, time.Since(start))
		}
	})

	t.Run("send", func(t *testing.T) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		ca := NewConn(a)
		ca.SetIdle(idle)
		ca.SetDeadline(time.Now().Add(idle))
		go func() {
			buf := make([]byte, HeaderSize+len(piece))
			for range frames {
				time.Sleep(pause)
				if _, err := io.ReadFull(b, buf); err != nil {
					return
				}
			}
			// Then it stops reading.
		}()
		for i := range frames {
			if err := ca.WriteData(piece); err != nil {
				t.Fatalf("frame %d to a peer taking one every %v with %v idle allowed: %v", i, pause, idle, err)
			}
		}
		start := time.Now()
		if err := ca.WriteData(piece); !isTimeout(err) || time.Since(start) > 10*idle {
			t.Fatalf("a peer that stopped reading: %v after %v", err, time.Since(start))
		}
	})
}

// After Interrupt neither SetDeadline nor a stream's idle time gives the
// connection time again: a cancellation that lands between two pieces of
// a stream is not undone by the next one.
func TestInterruptIsFinal(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	cb := NewConn(b)
	cb.SetIdle(time.Minute)
	cb.Interrupt()
	cb.SetDeadline(time.Now().Add(time.Minute))
	done := make(chan error, 1)
	go func() {
		_, err := cb.RecvStream(io.Discard, 10)
		done <- err
	}()
	select {
	case err := <-done:
		if !isTimeout(err) {
			t.Fatalf("read after Interrupt: %v, want a timeout", err)
		}
	case <-time.After(5 * time.Second):
		a.Close() // ends the read
		t.Fatal("a read after Interrupt waited for the peer")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
