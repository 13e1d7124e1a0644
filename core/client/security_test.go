package client_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// tap forwards connections to target, records every byte both ways and
// counts the bytes the target sent.
type tap struct {
	ln   net.Listener
	mu   sync.Mutex // guards buf
	buf  bytes.Buffer
	sent atomic.Int64
	wg   sync.WaitGroup
}

func newTap(t *testing.T, target string) *tap {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{ln: ln}
	t.Cleanup(func() { ln.Close(); tp.wg.Wait() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			tp.wg.Add(2)
			go func() { defer tp.wg.Done(); io.Copy(io.MultiWriter(out, tp), in); out.Close() }()
			go func() {
				defer tp.wg.Done()
				n, _ := io.Copy(io.MultiWriter(in, tp), out)
				tp.sent.Add(n)
				in.Close()
			}()
		}
	}()
	return tp
}

func (tp *tap) Write(p []byte) (int, error) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.buf.Write(p)
}

func (tp *tap) seen() []byte {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return bytes.Clone(tp.buf.Bytes())
}

// tappedClient returns a client for alice whose connections to each node
// go through a tap, and the taps (DFS1..DFS4).
func tappedClient(t *testing.T, c *testcluster.Cluster) (*client.Client, []*tap) {
	cfg := c.Config("alice", "Crimson33")
	var taps []*tap
	for n := range cfg.Nodes {
		tp := newTap(t, cfg.Nodes[n].Addr)
		taps = append(taps, tp)
		cfg.Nodes[n].Addr = tp.ln.Addr().String()
	}
	cl, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cl, taps
}

// captureRun puts and gets a file holding a marker through taps on every
// node and returns all bytes that crossed the wire.
func captureRun(t *testing.T, c *testcluster.Cluster) []byte {
	cl, taps := tappedClient(t, c)
	data := bytes.Repeat([]byte("MARKER-7f3a-secret-contents "), 2000)
	mustPut(t, cl, "secret-name-q9.txt", data)
	mustGet(t, cl, "secret-name-q9.txt", data)
	cl.Close()
	var all []byte
	for _, tp := range taps {
		tp.ln.Close()
		tp.wg.Wait()
		all = append(all, tp.seen()...)
	}
	return all
}

func TestWireIsEncrypted(t *testing.T) {
	for _, plain := range []bool{false, true} {
		var opts []testcluster.Option
		if plain {
			opts = append(opts, testcluster.Plaintext())
		}
		wire := captureRun(t, testcluster.Start(t, opts...))
		for _, secret := range []string{"MARKER-7f3a", "Crimson33", "secret-name-q9"} {
			found := bytes.Contains(wire, []byte(secret))
			if found != plain {
				t.Errorf("plaintext=%v: %q on the wire: %v", plain, secret, found)
			}
		}
	}
}

// TestNodeWithAnotherKeyRefused: a node answering on a pinned address with
// another key (a man in the middle, or a reinstalled node) is refused before
// the password is sent, with a message saying what to check.
func TestNodeWithAnotherKeyRefused(t *testing.T) {
	a := testcluster.Start(t)
	impostor := testcluster.Start(t)
	cfg := a.Config("alice", "Crimson33")
	cfg.Nodes[2].Addr = impostor.Addr(2) // DFS3's pin, another node's key
	cl, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	_, err = cl.Ping(ctxT(t))
	if !errors.Is(err, core.ErrPinMismatch) || !strings.Contains(err.Error(), "dfsnode fingerprint") {
		t.Fatalf("impostor node: %v", err)
	}
}

// TestFirstContactPins: without a pin the node's key is accepted once and
// reported, so dfc.conf can record it.
func TestFirstContactPins(t *testing.T) {
	c := testcluster.Start(t)
	cfg := c.Config("alice", "Crimson33")
	want := cfg.Nodes[1].Pin
	cfg.Nodes[1].Pin = ""
	var mu sync.Mutex
	var got []string
	cfg.OnNewPin = func(n int, fp string) {
		mu.Lock()
		defer mu.Unlock()
		if n == 1 {
			got = append(got, fp)
		}
	}
	cl, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != want {
		t.Fatalf("first contact pins %v, want [%s]", got, want)
	}
}
