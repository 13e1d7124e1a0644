package client_test

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// peakHeap samples the heap while fn runs and returns the highest HeapInuse.
func peakHeap(fn func()) uint64 {
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapInuse)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	fn()
	close(done)
	mu.Lock()
	defer mu.Unlock()
	return peak
}

func bigFile(b *testing.B, size int64) *os.File {
	f, err := os.Create(filepath.Join(b.TempDir(), "big"))
	if err != nil {
		b.Fatal(err)
	}
	chunk := randBytes(b, 1<<20)
	for off := int64(0); off < size; off += int64(len(chunk)) {
		chunk[0]++
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	return f
}

// BenchmarkPut256MiB stores a 256 MiB file (64 segments) on a loopback cluster (two copies
// of every byte cross the wire) and reports MB/s and the peak heap of the
// client and the four in-process nodes together.
func BenchmarkPut256MiB(b *testing.B) {
	const size = 256 << 20
	c := testcluster.Start(b)
	cl := c.Client(b, "alice", "Crimson33")
	f := bigFile(b, size)
	// Log in first: the root key (argon2, 64 MiB) and the master key are not the data path.
	if _, err := put(b, cl, "warm", []byte("up")); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	b.SetBytes(size)
	b.ResetTimer()
	peak := peakHeap(func() {
		for i := 0; i < b.N; i++ {
			if _, err := cl.Put(ctxT(b), "big", f, size, client.PutOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// BenchmarkGet256MiB fetches the file back into a local file.
func BenchmarkGet256MiB(b *testing.B) {
	const size = 256 << 20
	c := testcluster.Start(b)
	cl := c.Client(b, "alice", "Crimson33")
	f := bigFile(b, size)
	if _, err := cl.Put(ctxT(b), "big", f, size, client.PutOptions{}); err != nil {
		b.Fatal(err)
	}
	out, err := os.Create(filepath.Join(b.TempDir(), "out"))
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	b.SetBytes(size)
	b.ResetTimer()
	peak := peakHeap(func() {
		for i := 0; i < b.N; i++ {
			if _, err := cl.Get(ctxT(b), "big", out, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// BenchmarkDiskCopy256MiB is the same-run baseline: copying the file on the
// local disk, which the cluster's figures are read against.
func BenchmarkDiskCopy256MiB(b *testing.B) {
	const size = 256 << 20
	f := bigFile(b, size)
	out, err := os.Create(filepath.Join(b.TempDir(), "out"))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for off := int64(0); off < size; off += int64(len(buf)) {
			f.ReadAt(buf, off)
			out.WriteAt(buf, off)
		}
		out.Sync()
	}
}

// BenchmarkDraftSegment overwrites one segment of a 64 MiB file (16
// segments) through a Draft: one segment sent, the others shared, what a
// mount's small write in a big file costs once its segment is loaded.
func BenchmarkDraftSegment(b *testing.B) {
	const size = 64 << 20
	c := testcluster.Start(b)
	cl := c.Client(b, "alice", "Crimson33")
	f := bigFile(b, size)
	res, err := cl.Put(ctxT(b), "big", f, size, client.PutOptions{})
	if err != nil {
		b.Fatal(err)
	}
	seg := randBytes(b, int(core.SegmentSize))
	b.SetBytes(core.SegmentSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := cl.NewDraft("big", res.File)
		seg[0]++
		if err := d.PutSegment(ctxT(b), int64(i%16), seg); err != nil {
			b.Fatal(err)
		}
		if res, err = d.Commit(ctxT(b), size, client.PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChunkBounds(b *testing.B) {
	var sink int64
	for i := 0; i < b.N; i++ {
		s, e := core.ChunkBounds(int64(i)*7919, i%4)
		sink += e - s
	}
	_ = sink
}

func BenchmarkPlacement(b *testing.B) {
	var sink int
	sum := []byte{1, 2, 3, 4}
	for i := 0; i < b.N; i++ {
		sum[3] = byte(i)
		x := core.PlacementX(sum)
		sink += core.ChunkNodes(x, i%4)[1]
	}
	_ = sink
}
