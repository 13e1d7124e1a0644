package client_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// TestGetSparse: a 10 GiB file of two small stored segments, fetched into
// an *os.File, is written as it is stored: its holes stay holes (the
// local file takes a few blocks, not 10 GiB), nothing the file held before
// shows through them, and progress counts the holes too.
func TestGetSparse(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	const size = 10 << 30
	d := cl.NewDraft("disk.img", nil)
	at := []int64{3, core.NumSegments(size) - 1}
	for _, k := range at {
		if err := d.PutSegment(ctxT(t), k, []byte("data")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Commit(ctxT(t), size, client.PutOptions{Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(dest, bytes.Repeat([]byte{0xee}, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(dest, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var mu sync.Mutex // progress comes from the fetching goroutines
	var last int64
	if _, err := cl.Get(ctxT(t), "disk.img", f, func(done int64) { mu.Lock(); last = max(last, done); mu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	if last != size {
		t.Errorf("progress reached %d, want %d", last, int64(size))
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != size || st.Blocks*512 > 1<<20 {
		t.Errorf("fetched: size %d, %d blocks of 512 bytes; want %d and a sparse file", st.Size, st.Blocks, int64(size))
	}
	got := make([]byte, 8)
	for _, off := range []int64{0, 1<<20 - 4, 3*core.SegmentSize - 4, (at[1])*core.SegmentSize - 4} {
		want := make([]byte, 8)
		if s := off + 4; s%core.SegmentSize == 0 && s > 0 {
			copy(want[4:], "data")
		}
		if _, err := f.ReadAt(got, off); err != nil || !bytes.Equal(got, want) {
			t.Errorf("at %d: %q, %v; want %q", off, got, err, want)
		}
	}
}
