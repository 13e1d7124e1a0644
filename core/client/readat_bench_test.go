package client_test

import (
	"io"
	"sync"
	"testing"

	"dfs/core/client"
	"dfs/internal/testcluster"
)

// BenchmarkReadAtSequential reads a 64 MiB file with 1 MiB ReadAt calls, as
// the mount serves sequential reads.
func BenchmarkReadAtSequential(b *testing.B) {
	const size = 64 << 20
	c := testcluster.Start(b)
	cl := c.Client(b, "alice", "Crimson33")
	f := bigFile(b, size)
	if _, err := cl.Put(ctxT(b), "big", f, size, client.PutOptions{}); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rf, err := cl.Open(ctxT(b), "big")
		if err != nil {
			b.Fatal(err)
		}
		for off := int64(0); off < size; off += int64(len(buf)) {
			if _, err := rf.ReadAt(buf, off); err != nil && err != io.EOF {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkReadAt256MiB reads a 256 MiB file in order with 1 MiB ReadAt
// calls as the mount serves dd: two in flight, the next sent as soon as one
// returns. With all nodes up and with DFS2 stopped (its chunks then come
// from their other copies).
func BenchmarkReadAt256MiB(b *testing.B) {
	const size = 256 << 20
	c := testcluster.Start(b)
	cl := c.Client(b, "alice", "Crimson33")
	f := bigFile(b, size)
	if _, err := cl.Put(ctxT(b), "big", f, size, client.PutOptions{}); err != nil {
		b.Fatal(err)
	}
	const step, inflight = 1 << 20, 2
	bufs := make(chan []byte, inflight)
	for range inflight {
		bufs <- make([]byte, step)
	}
	read := func(b *testing.B) {
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			rf, err := cl.Open(ctxT(b), "big")
			if err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			for off := int64(0); off < size; off += step {
				buf := <-bufs
				wg.Go(func() {
					defer func() { bufs <- buf }()
					if _, err := rf.ReadAt(buf, off); err != nil && err != io.EOF {
						b.Error(err)
					}
				})
			}
			wg.Wait()
			rf.Close()
		}
	}
	b.Run("up", read)
	c.Stop(1)
	b.Run("down", read)
}
