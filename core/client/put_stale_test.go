package client_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"dfs/core/client"
	"dfs/internal/testcluster"
)

// TestPutOverStaleConnections: a large put whose pooled connections to both
// holders of a chunk are dead (the nodes restarted) fails on both at once,
// and each copy is sent again on a fresh connection. The retry is checked
// against the chunk's SHA-256, which must be that of the whole chunk even
// though the first attempt stopped reading when both holders failed (it
// once was the hash of the part read, and both nodes refused the retry:
// "SHA-256 of the received chunk does not match").
func TestPutOverStaleConnections(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	data := randBytes(t, 24<<20)
	for round := 0; round < 3; round++ {
		// Concurrent puts leave several pooled connections per node.
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() { mustPut(t, cl, fmt.Sprintf("warm%d", i), data[:1<<20]) })
		}
		wg.Wait()
		for n := 0; n < 4; n++ {
			c.Restart(n)
		}
		name := fmt.Sprintf("big%d", round)
		if _, err := put(t, cl, name, data); err != nil {
			t.Fatalf("round %d: put over stale connections: %v", round, err)
		}
		mustGet(t, cl, name, data)
	}
}

// TestConcurrentLargePuts: several clients put and overwrite large files at
// once, with every pooled connection going stale between rounds; every put
// succeeds and every file ends as one whole version that was put.
func TestConcurrentLargePuts(t *testing.T) {
	c := testcluster.Start(t)
	const clients, files, rounds = 3, 3, 3
	var cls [clients]*client.Client
	for i := range cls {
		cls[i] = c.Client(t, "alice", "Crimson33")
	}
	versions := map[string][][]byte{} // name -> every content put
	var mu sync.Mutex
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		for ci := range cls {
			for f := range files {
				wg.Go(func() {
					name := fmt.Sprintf("f%d", f)
					data := randBytes(t, 3<<20+ci*4099+round*17)
					mu.Lock()
					versions[name] = append(versions[name], data)
					mu.Unlock()
					if _, err := put(t, cls[ci], name, data); err != nil {
						t.Errorf("round %d: client %d: put %s: %v", round, ci, name, err)
					}
				})
			}
		}
		wg.Wait()
		if round < rounds-1 {
			for n := 0; n < 4; n++ {
				c.Restart(n)
			}
		}
	}
	for f := range files {
		name := fmt.Sprintf("f%d", f)
		got, err := get(t, cls[0], name)
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		whole := false
		for _, v := range versions[name] {
			whole = whole || bytes.Equal(got, v)
		}
		if !whole {
			t.Errorf("%s: %d bytes that match no version put", name, len(got))
		}
	}
}
