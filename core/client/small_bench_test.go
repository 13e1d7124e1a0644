package client_test

import (
	"bytes"
	"fmt"
	"testing"

	"dfs/core/client"
	"dfs/internal/testcluster"
)

// BenchmarkSmallFiles measures the namespace operations a small-file
// workload (tar -x, rm -rf) makes, one at a time as a single process does
// them: a put of a 4 KiB file, a stat and a remove, each against four
// in-process nodes on loopback.
func BenchmarkSmallFiles(b *testing.B) {
	c := testcluster.Start(b)
	cl := c.Client(b, "alice", "Crimson33")
	data := randBytes(b, 4096)
	if _, err := cl.Mkdir(ctxT(b), "d", 0o755); err != nil {
		b.Fatal(err)
	}
	b.Run("put", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := cl.Put(ctxT(b), fmt.Sprintf("d/f%d", i), bytes.NewReader(data), int64(len(data)), client.PutOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stat", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := cl.Stat(ctxT(b), "d/f0"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("put-sync", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := cl.Put(ctxT(b), fmt.Sprintf("d/s%d", i), bytes.NewReader(data), int64(len(data)), client.PutOptions{Sync: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
	run := 0
	b.Run("remove", func(b *testing.B) {
		run++
		b.StopTimer()
		for i := 0; i < b.N; i++ {
			if _, err := cl.Put(ctxT(b), fmt.Sprintf("d/r%d-%d", run, i), bytes.NewReader(data), int64(len(data)), client.PutOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		for i := 0; i < b.N; i++ {
			if err := cl.Remove(ctxT(b), fmt.Sprintf("d/r%d-%d", run, i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
