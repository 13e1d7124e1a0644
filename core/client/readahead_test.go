package client_test

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// readSeq reads f from off to its end in steps of step bytes, two reads in
// flight at a time (as the kernel sends a sequential reader's requests),
// and returns what it read.
func readSeq(t *testing.T, f *client.File, off int64, step int) []byte {
	t.Helper()
	size := f.Entry().Size
	out := make([]byte, size-off)
	for pos := off; pos < size; pos += 2 * int64(step) {
		var wg sync.WaitGroup
		for k := range int64(2) {
			at := pos + k*int64(step)
			if at >= size {
				break
			}
			wg.Go(func() {
				n, err := f.ReadAtContext(ctxT(t), out[at-off:min(at-off+int64(step), size-off)], at)
				if err != nil && err != io.EOF {
					t.Errorf("read at %d: %v", at, err)
				}
				if want := min(int64(step), size-at); int64(n) != want {
					t.Errorf("read at %d: %d bytes, want %d", at, n, want)
				}
			})
		}
		wg.Wait()
	}
	return out
}

// readPipe reads all of f in steps of step bytes, as the kernel sends a
// sequential reader's requests: inflight at a time, the next sent as soon
// as one returns (so the later one may be served first).
func readPipe(t *testing.T, f *client.File, step, inflight int) []byte {
	t.Helper()
	size := f.Entry().Size
	out := make([]byte, size)
	sem := make(chan struct{}, inflight)
	var wg sync.WaitGroup
	for at := int64(0); at < size; at += int64(step) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			p := out[at:min(at+int64(step), size)]
			if n, err := f.ReadAtContext(ctxT(t), p, at); n != len(p) {
				t.Errorf("read at %d: %d bytes of %d: %v", at, n, len(p), err)
			}
		})
	}
	wg.Wait()
	return out
}

// waitFree waits (bounded) for the read-ahead budget to be whole again:
// requests still in flight when a File is closed give their memory back
// when they end.
func waitFree(t *testing.T, cl *client.Client, want int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for cl.ReadAheadFree() != want {
		if time.Now().After(deadline) {
			t.Fatalf("read-ahead budget: %d free, want %d", cl.ReadAheadFree(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// putOpen puts size random bytes as "big" and opens them; the File is
// closed when the test ends.
func putOpen(t *testing.T, cl *client.Client, size int) ([]byte, *client.File) {
	t.Helper()
	data := randBytes(t, size)
	mustPut(t, cl, "big", data)
	f, err := cl.Open(ctxT(t), "big")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return data, f
}

func TestReadAheadSequential(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	data, f := putOpen(t, cl, 21<<20+12345) // chunks of ~5.25 MiB: segments end at chunk ends
	if got := readSeq(t, f, 0, 128<<10); !bytes.Equal(got, data) {
		t.Fatal("sequential read differs from what was put")
	}
	// A read in the middle starts a new run, also correct.
	if got := readSeq(t, f, 7<<20+3, 1<<20); !bytes.Equal(got, data[7<<20+3:]) {
		t.Fatal("sequential read from the middle differs")
	}
	f.Close()
	waitFree(t, cl, client.DefaultReadAheadBudget)
}

// TestReadAheadFetchesAhead shows the segments ahead of a sequential reader
// are fetched before they are asked for: with every node stopped, the reader
// still gets them.
func TestReadAheadFetchesAhead(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	data, f := putOpen(t, cl, 64<<20)
	buf := make([]byte, 256<<10)
	var off int64
	for ; off < 1<<20; off += int64(len(buf)) {
		if _, err := f.ReadAt(buf, off); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.ReadAheadWait(); n < 4 {
		t.Fatalf("%d segments fetched ahead, want at least 4", n)
	}
	for n := range core.NumNodes {
		c.Stop(n)
	}
	// Two segments ahead are still there (the reader is in the first).
	for ; off < 2*client.WindowSize; off += int64(len(buf)) {
		if _, err := f.ReadAt(buf, off); err != nil {
			t.Fatalf("read at %d with the nodes stopped: %v", off, err)
		}
		if !bytes.Equal(buf, data[off:off+int64(len(buf))]) {
			t.Fatalf("read at %d differs", off)
		}
	}
}

// TestReadAheadNodeDies kills a node in the middle of a sequential read:
// the segments it was sending come from the other copy.
func TestReadAheadNodeDies(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	data, f := putOpen(t, cl, 24<<20)
	got := make([]byte, len(data))
	step := 1 << 20
	for off := 0; off < len(data); off += step {
		if off == 3<<20 {
			c.Stop(0)
			c.Stop(2) // every chunk has a copy on node 1 or 3
		}
		if _, err := f.ReadAt(got[off:off+step], int64(off)); err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatal("read with nodes stopped midway differs")
	}
}

// TestReadAheadRandomAndBudget: random reads are not read ahead, and a
// budget smaller than the window still serves sequential readers whole.
func TestReadAheadRandomAndBudget(t *testing.T) {
	c := testcluster.Start(t)
	cfg := c.Config("alice", "Crimson33")
	cfg.ReadAheadBudget = 3 * client.WindowSize
	cl, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	data, f := putOpen(t, cl, 16<<20)
	buf := make([]byte, 64<<10)
	for _, off := range []int64{9 << 20, 1 << 20, 13<<20 + 5, 3 << 20, 11 << 20} {
		if _, err := f.ReadAt(buf, off); err != nil || !bytes.Equal(buf, data[off:off+int64(len(buf))]) {
			t.Fatalf("random read at %d: %v", off, err)
		}
	}
	if free := cl.ReadAheadFree(); free != cfg.ReadAheadBudget {
		t.Fatalf("random reads took %d bytes of read-ahead", cfg.ReadAheadBudget-free)
	}
	// Two readers share a budget of three segments.
	g, err := cl.Open(ctxT(t), "big")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, r := range []*client.File{f, g} {
		wg.Go(func() {
			if got := readSeq(t, r, 0, 128<<10); !bytes.Equal(got, data) {
				t.Error("sequential read on a small budget differs")
			}
		})
	}
	wg.Wait()
	f.Close()
	g.Close()
	waitFree(t, cl, cfg.ReadAheadBudget)
}

// TestReadAheadClosed: a File read after Close reads directly, holding no
// read-ahead.
func TestReadAheadClosed(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	data, f := putOpen(t, cl, 8<<20)
	f.Close()
	if got := readSeq(t, f, 0, 256<<10); !bytes.Equal(got, data) {
		t.Fatal("read after Close differs")
	}
	if free := cl.ReadAheadFree(); free != client.DefaultReadAheadBudget {
		t.Fatalf("a closed File took %d bytes of read-ahead", client.DefaultReadAheadBudget-free)
	}
}

// TestReadAheadIdle: segments a reader stopped reading are dropped after
// the idle time, giving the budget back without a Close.
func TestReadAheadIdle(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	_, f := putOpen(t, cl, 16<<20)
	buf := make([]byte, 256<<10)
	off := int64(0)
	read := func() {
		if _, err := f.ReadAt(buf, off); err != nil {
			t.Fatal(err)
		}
		off += int64(len(buf))
	}
	// Start read-ahead on the default idle time, which a slow (-race) run
	// cannot outlast between two reads, then re-arm the idle timer short.
	for off < 1<<20 {
		read()
	}
	if n := f.ReadAheadWait(); n == 0 {
		t.Fatal("sequential reads fetched nothing ahead")
	}
	f.SetReadAheadIdle(100 * time.Millisecond)
	read()
	waitFree(t, cl, client.DefaultReadAheadBudget)
}

// TestReadAheadOff: a negative budget turns read-ahead off.
func TestReadAheadOff(t *testing.T) {
	c := testcluster.Start(t)
	cfg := c.Config("alice", "Crimson33")
	cfg.ReadAheadBudget = -1
	cl, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	data, f := putOpen(t, cl, 8<<20)
	if got := readSeq(t, f, 0, 256<<10); !bytes.Equal(got, data) {
		t.Fatal("read without read-ahead differs")
	}
	if n := f.ReadAheadWait(); n != 0 {
		t.Fatalf("%d segments read ahead with read-ahead off", n)
	}
}

// TestReadAheadTwoInFlight reads as the mount serves dd: 1 MiB reads, two
// in flight, the later one sometimes first. A read ahead of another must
// not drop (or cut short) the window the other is waiting for: each drop
// cut a request short, closed its connection and cost a new login, and
// the reads fell back to direct requests.
func TestReadAheadTwoInFlight(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	data, f := putOpen(t, cl, 48<<20)
	dials := cl.CountDials()
	if got := readPipe(t, f, 1<<20, 2); !bytes.Equal(got, data) {
		t.Fatal("sequential read differs from what was put")
	}
	// A few connections beyond the warm-up's are fine (read-ahead keeps
	// more requests in flight than the put did); one per chunk is not.
	if n := dials.Load(); n > 16 {
		t.Fatalf("%d connections opened while reading 48 chunks in order", n)
	}
}
