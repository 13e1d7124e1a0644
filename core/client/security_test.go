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
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// tap forwards connections to target, records every byte both ways and
// counts the bytes the target sent.
type tap struct {
	ln     net.Listener
	target atomic.Pointer[string] // where connections are forwarded
	mu     sync.Mutex             // guards buf
	buf    bytes.Buffer
	sent   atomic.Int64
	wg     sync.WaitGroup
}

func newTap(t *testing.T, target string) *tap {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{ln: ln}
	tp.retarget(target)
	t.Cleanup(func() { ln.Close(); tp.wg.Wait() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", *tp.target.Load())
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

// retarget forwards the connections accepted from now on to target.
func (tp *tap) retarget(target string) { tp.target.Store(&target) }

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
		// Nothing secret crosses the wire, plaintext transport or not:
		// contents and names are encrypted end to end (issue 15), and a
		// login carries a proof of the password (docs/protocol.md,
		// Sessions).
		for what, secret := range map[string]string{"contents": "MARKER-7f3a", "name": "secret-name-q9", "password": "Crimson33"} {
			if bytes.Contains(wire, []byte(secret)) {
				t.Errorf("plaintext=%v: the %s (%q) on the wire", plain, what, secret)
			}
		}
	}
}

// TestNodeWithAnotherKeyRefused: a node answering on a pinned address with
// another key (a man in the middle, or a reinstalled node) is refused before
// anything is sent, with a message saying what to check.
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

// firstContactClient returns a client of c whose nodes have no pins and
// whose OnNewPin takes its time, one node at a time as a person answering
// questions would, accepting every key but refuse's; it records what it
// was asked. Stall is short, so a node waiting for its answer would be
// left behind if the client took it for hung.
func firstContactClient(t *testing.T, c *testcluster.Cluster, refuse int) (*client.Client, *asked) {
	cfg := c.Config("alice", "Crimson33")
	cfg.Stall = 50 * time.Millisecond
	a := &asked{}
	for n := range cfg.Nodes {
		cfg.Nodes[n].Pin = ""
	}
	cfg.OnNewPin = func(n int, fp string) error {
		a.mu.Lock()
		defer a.mu.Unlock()
		time.Sleep(200 * time.Millisecond)
		a.fps[n] = append(a.fps[n], fp)
		if n == refuse {
			return errors.New("no thanks")
		}
		return nil
	}
	return testcluster.NewClient(t, cfg), a
}

type asked struct {
	mu  sync.Mutex // serializes the questions
	fps [core.NumNodes][]string
}

// TestFirstContactAsksOnce: without pins each node's key is asked about
// once, whoever dials it meanwhile, before anything is sent; the nodes
// waiting for their turn are not left behind as hung.
func TestFirstContactAsksOnce(t *testing.T) {
	c := testcluster.Start(t)
	cl, a := firstContactClient(t, c, -1)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if st, err := cl.Ping(ctxT(t)); err != nil {
				t.Errorf("ping: %v", err)
			} else {
				for _, s := range st {
					if !s.Up {
						t.Errorf("%s down: %v", s.Name, s.Err)
					}
				}
			}
		})
	}
	wg.Wait()
	mustPut(t, cl, "f", []byte("first contact"))
	a.mu.Lock()
	defer a.mu.Unlock()
	for n, want := range c.Nodes() {
		if len(a.fps[n]) != 1 || a.fps[n][0] != want.Pin {
			t.Errorf("%s: asked about %v, want [%s]", want.Name, a.fps[n], want.Pin)
		}
	}
}

// TestFirstContactRefused: a key OnNewPin refuses fails the node as a pin
// mismatch, with OnNewPin's words, and is not asked about again.
func TestFirstContactRefused(t *testing.T) {
	c := testcluster.Start(t)
	cl, a := firstContactClient(t, c, 2)
	for range 2 {
		_, err := cl.Ping(ctxT(t))
		if !errors.Is(err, core.ErrPinMismatch) || !strings.Contains(err.Error(), "DFS3") || !strings.Contains(err.Error(), "no thanks") {
			t.Fatalf("refused node: %v", err)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.fps[2]) != 1 {
		t.Errorf("asked %d times about the refused key", len(a.fps[2]))
	}
}

// TestFirstContactPinHolds: a key accepted at first contact is the node's
// pin from then on: another key at that address is refused.
func TestFirstContactPinHolds(t *testing.T) {
	c := testcluster.Start(t)
	impostor := testcluster.Start(t)
	cfg := c.Config("alice", "Crimson33")
	tp := newTap(t, cfg.Nodes[1].Addr)
	cfg.Nodes[1].Addr, cfg.Nodes[1].Pin = tp.ln.Addr().String(), ""
	var got []string
	cfg.OnNewPin = func(n int, fp string) error {
		got = append(got, fp) // only DFS2 has no pin
		return nil
	}
	cl := testcluster.NewClient(t, cfg)
	if _, err := cl.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != c.Nodes()[1].Pin {
		t.Fatalf("first contact pins %v, want [%s]", got, c.Nodes()[1].Pin)
	}
	tp.retarget(impostor.Addr(1))
	cl.Close() // the pooled connections go: the next ones meet the impostor
	if _, err := cl.Ping(ctxT(t)); !errors.Is(err, core.ErrPinMismatch) || !strings.Contains(err.Error(), "dfsnode fingerprint") {
		t.Fatalf("another key after first contact: %v", err)
	}
	if len(got) != 1 {
		t.Errorf("asked again: %v", got)
	}
}
