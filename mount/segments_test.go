//go:build linux

package mount

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

const segSize = core.SegmentSize

// randomBytes returns n bytes drawn from a generator seeded with seed.
func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)}).Read(b)
	return b
}

// segmentIDs returns the ids of the stored segments of name, by index.
func segmentIDs(t *testing.T, cl *client.Client, name string) map[int64]string {
	t.Helper()
	e, err := cl.Stat(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int64]string{}
	for _, sg := range e.Segments {
		ids[sg.Index] = sg.ID
	}
	return ids
}

// readBothWays checks that the file reads as want through a mount and through
// the client.
func readBothWays(t *testing.T, mp string, cl *client.Client, name string, want []byte) {
	t.Helper()
	// The other mount's kernel keeps the attributes it has for the
	// attribute timeout.
	eventually(t, 5*time.Second, name+" through the other mount", func() error {
		got, err := os.ReadFile(filepath.Join(mp, name))
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("%d bytes, differs from %d (want %d bytes)", len(got), firstDiff(got, want), len(want))
		}
		return nil
	})
	f, err := cl.Open(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(io.NewSectionReader(f, 0, f.Entry().Size))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s through the client: %d bytes, differs from %d (want %d bytes)", name, len(got), firstDiff(got, want), len(want))
	}
}

// TestSegmentsChangeCostsTheChange: an append puts the last segment and
// the new ones, a 4 KiB overwrite puts the one segment it falls in; the
// other segments stay shared with the version before (same ids, their
// chunk files untouched), and another mount and the client read the result
// byte for byte.
func TestSegmentsChangeCostsTheChange(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t)
	cl := &countingClient{Client: c.Client(t, "alice", "Crimson33")}
	reader := c.Client(t, "alice", "Crimson33")
	mp := mountT(t, cl)
	mp2 := mountT(t, c.Client(t, "alice", "Crimson33"))
	p := filepath.Join(mp, "f")

	want := randomBytes(int(3*segSize)-1000, 1)
	if err := os.WriteFile(p, want, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := cl.putSegments(); !slices.Equal(got, []int64{0, 1, 2}) {
		t.Fatalf("writing 3 segments put %v", got)
	}
	before := segmentIDs(t, reader, "f")
	readBothWays(t, mp2, reader, "f", want)

	// An append across a segment boundary.
	more := randomBytes(100<<10, 2)
	a, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Write(more); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	want = append(want, more...)
	if got := cl.putSegments(); !slices.Equal(got, []int64{2, 3}) {
		t.Errorf("the append put segments %v, want [2 3]", got)
	}
	after := segmentIDs(t, reader, "f")
	for k := range int64(2) {
		if after[k] != before[k] {
			t.Errorf("segment %d not shared after the append: %s, was %s", k, after[k], before[k])
		}
	}
	readBothWays(t, mp2, reader, "f", want)

	// An overwrite of 4 KiB inside segment 1, fsynced.
	filesBefore := chunkFiles(t, c)
	bytesBefore := cl.bytes.Load()
	w, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	patch := randomBytes(4<<10, 3)
	off := segSize + 12345
	start := time.Now()
	if _, err := w.WriteAt(patch, off); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	t.Logf("4 KiB overwrite + fsync of a %d-byte file: %v", len(want), time.Since(start))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	copy(want[off:], patch)
	if got := cl.putSegments(); !slices.Equal(got, []int64{1}) {
		t.Errorf("the overwrite put segments %v, want [1]", got)
	}
	if sent := cl.bytes.Load() - bytesBefore; sent != segSize {
		t.Errorf("the overwrite sent %d bytes, want one segment (%d)", sent, segSize)
	}
	final := segmentIDs(t, reader, "f")
	for k, id := range after {
		if changed := final[k] != id; changed != (k == 1) {
			t.Errorf("segment %d: id %s, was %s", k, final[k], id)
		}
	}
	filesAfter := chunkFiles(t, c)
	for f, size := range filesBefore {
		if !strings.Contains(f, after[1]) && filesAfter[f] != size {
			t.Errorf("chunk file %s changed or went away: %d bytes, was %d", f, filesAfter[f], size)
		}
	}
	var added []string
	for f := range filesAfter {
		if _, ok := filesBefore[f]; !ok {
			added = append(added, f)
			if !strings.Contains(f, final[1]) {
				t.Errorf("new chunk file %s is not of the new segment 1 (%s)", f, final[1])
			}
		}
	}
	if len(added) != 2*core.NumChunks {
		t.Errorf("%d new chunk files, want %d (4 chunks, 2 copies): %v", len(added), 2*core.NumChunks, added)
	}
	readBothWays(t, mp2, reader, "f", want)
}

// TestSegmentsSparse: a file grown by truncate or by a write past its end
// stores nothing for its holes; they read as zeros, and st_blocks counts
// only what is stored.
func TestSegmentsSparse(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t)
	cl := &countingClient{Client: c.Client(t, "alice", "Crimson33")}
	reader := c.Client(t, "alice", "Crimson33")
	mp := mountT(t, cl)
	mp2 := mountT(t, c.Client(t, "alice", "Crimson33"))
	p := filepath.Join(mp, "sparse")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	const big = 10 << 30
	if err := os.Truncate(p, big); err != nil {
		t.Fatal(err)
	}
	if n := cl.segments.Load(); n != 0 {
		t.Errorf("truncate -s 10G put %d segments", n)
	}
	if n := chunkBytes(t, c); n != 0 {
		t.Errorf("truncate -s 10G: the nodes hold %d bytes of chunk files", n)
	}
	e, err := reader.Stat(context.Background(), "sparse")
	if err != nil || e.Size != big || len(e.Segments) != 0 {
		t.Fatalf("on the nodes: size %d, %d segments, %v", e.Size, len(e.Segments), err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(mp2, "sparse"), &st); err != nil || st.Size != big || st.Blocks != 0 {
		t.Errorf("stat: size %d blocks %d, %v; want %d and 0", st.Size, st.Blocks, err, int64(big))
	}

	// A write into the middle of the hole, and one past the end.
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("hello"), 7<<30); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("end"), big+segSize+1); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := cl.putSegments(); !slices.Equal(got, []int64{7 << 30 / segSize, big/segSize + 1}) {
		t.Errorf("segments put: %v", got)
	}
	if n := chunkBytes(t, c); n > 64<<10 {
		t.Errorf("two small segments take %d bytes of chunk files", n)
	}
	eventually(t, 5*time.Second, "stat of the sparse file", func() error {
		if err := syscall.Stat(filepath.Join(mp2, "sparse"), &st); err != nil {
			return err
		}
		if st.Size != big+segSize+4 || st.Blocks == 0 || st.Blocks > 16 {
			return fmt.Errorf("size %d blocks %d", st.Size, st.Blocks)
		}
		return nil
	})
	for _, r := range []struct {
		off  int64
		want []byte
	}{
		{0, make([]byte, 1<<20)},
		{7<<30 - 3, []byte{0, 0, 0, 'h', 'e', 'l', 'l', 'o', 0, 0}},
		{big - 10, make([]byte, 10)},
		{big + segSize - 1, []byte{0, 0, 'e', 'n', 'd'}},
	} {
		got := make([]byte, len(r.want))
		g, err := os.Open(filepath.Join(mp2, "sparse"))
		if err != nil {
			t.Fatal(err)
		}
		n, err := g.ReadAt(got, r.off)
		g.Close()
		if n != len(got) && !(err == io.EOF && n == len(got)) || !bytes.Equal(got, r.want) {
			t.Errorf("read at %d: %q (%d, %v), want %q", r.off, got, n, err, r.want)
		}
	}
}

// cacheUse returns the bytes the mount's unlinked files in dir take on
// the disk (this process serves the mount: its open files are the spool's).
func cacheUse(dir string) int64 {
	fds, _ := os.ReadDir("/proc/self/fd")
	var total int64
	for _, fd := range fds {
		link, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if err != nil || !strings.HasPrefix(link, dir+"/") {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat("/proc/self/fd/"+fd.Name(), &st) == nil {
			total += st.Blocks * 512
		}
	}
	return total
}

// watchCache samples cacheUse(dir) until stop is called, which returns the
// peak seen.
func watchCache(dir string) (stop func() int64) {
	var peak int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			peak = max(peak, cacheUse(dir))
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	return func() int64 {
		close(done)
		wg.Wait()
		return peak
	}
}

// TestSegmentsCacheBounded: a file written sequentially, far larger than
// the bound, never has more than maxLocal segments (32 MiB) in the cache
// folder: the writer's full segments are put while it writes, and dropped
// once committed, by a commit made as soon as maxLocal are stored.
func TestSegmentsCacheBounded(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	reader := c.Client(t, "alice", "Crimson33")
	opts := testOptions(t)
	mp := mountOptsT(t, cl, opts)
	mp2 := mountT(t, c.Client(t, "alice", "Crimson33"))
	want := randomBytes(64<<20+777, 4)

	stop := watchCache(opts.CacheDir)
	start := time.Now()
	f, err := os.Create(filepath.Join(mp, "big"))
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(want); off += 1 << 20 {
		if _, err := f.Write(want[off:min(off+1<<20, len(want))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	peak := stop()
	t.Logf("64 MiB written in %v; the cache folder held at most %d bytes (%.1f segments)", took, peak, float64(peak)/float64(segSize))
	if peak > maxLocal*segSize {
		t.Errorf("the cache folder held %d bytes, more than %d segments", peak, maxLocal)
	}
	if use := cacheUse(opts.CacheDir); use != 0 {
		t.Errorf("after close the cache folder holds %d bytes", use)
	}
	readBothWays(t, mp2, reader, "big", want)
}

// TestSegmentsRandomWrites: writes here and there into a large file fetch
// and put only the segments they touch, and a shrink that cuts a segment
// keeps its start.
func TestSegmentsRandomWrites(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t)
	cl := &countingClient{Client: c.Client(t, "alice", "Crimson33")}
	reader := c.Client(t, "alice", "Crimson33")
	opts := testOptions(t)
	mp := mountOptsT(t, cl, opts)
	mp2 := mountT(t, c.Client(t, "alice", "Crimson33"))
	want := randomBytes(int(12*segSize)+5, 5)
	if _, err := reader.Put(context.Background(), "r", bytes.NewReader(want), int64(len(want)), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(mp, "r"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	stop := watchCache(opts.CacheDir)
	rng := rand.New(rand.NewPCG(1, 2))
	touched := map[int64]bool{}
	for i := range 40 {
		k := rng.Int64N(10) // the last two segments are cut below
		off := k*segSize + rng.Int64N(segSize-100)
		b := randomBytes(100, int64(i))
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
		copy(want[off:], b)
		touched[k] = true
	}
	cut := 10*segSize + 17
	if err := f.Truncate(cut); err != nil {
		t.Fatal(err)
	}
	want = want[:cut]
	got := make([]byte, len(want))
	if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("reading back through the writer: %v, differs at %d", err, firstDiff(got, want))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if peak := stop(); peak > maxLocal*segSize {
		t.Errorf("the cache folder held %d bytes, more than %d segments", peak, maxLocal)
	}
	put := map[int64]bool{}
	for _, k := range cl.putSegments() {
		put[k] = true
	}
	touched[10] = true // cut
	for k := range int64(11) {
		if put[k] != touched[k] {
			t.Errorf("segment %d: put %v, written %v", k, put[k], touched[k])
		}
	}
	readBothWays(t, mp2, reader, "r", want)
}
