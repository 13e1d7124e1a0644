//go:build linux

package mount

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"dfs/core"
	"dfs/internal/testcluster"
)

// TestMaxFileSize writes at the end of the largest file dfs stores through
// the mount, sparsely (no data but the bytes written): a write that starts
// at core.MaxFileSize fails with EFBIG, one that crosses it is cut short
// there, as on a local disk, and a truncate past it fails with EFBIG. The
// file of core.MaxFileSize bytes it leaves is stored and read back.
func TestMaxFileSize(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	mp := mountT(t, cl)
	p := filepath.Join(mp, "vm.img")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	if n, err := syscall.Pwrite(fd, []byte("x"), core.MaxFileSize); !errors.Is(err, syscall.EFBIG) {
		t.Errorf("pwrite at MaxFileSize: %d, %v; want EFBIG", n, err)
	}
	if n, err := syscall.Pwrite(fd, []byte("tail"), core.MaxFileSize-2); n != 2 || err != nil {
		t.Errorf("pwrite across MaxFileSize: %d, %v; want 2 bytes written", n, err)
	}
	if err := f.Truncate(core.MaxFileSize + 1); !errors.Is(err, syscall.EFBIG) {
		t.Errorf("ftruncate past MaxFileSize: %v; want EFBIG", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, core.MaxFileSize+4096); !errors.Is(err, syscall.EFBIG) {
		t.Errorf("truncate past MaxFileSize: %v; want EFBIG", err)
	}
	e, err := cl.Stat(context.Background(), "vm.img")
	if err != nil || e.Size != core.MaxFileSize || len(e.Segments) != 1 || e.Segments[0].Index != core.NumSegments(core.MaxFileSize)-1 {
		t.Fatalf("on the nodes: size %d, segments %v, %v", e.Size, e.Segments, err)
	}
	g, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	got := make([]byte, 4)
	if n, err := g.ReadAt(got, core.MaxFileSize-4); n != 4 || string(got) != "\x00\x00ta" {
		t.Errorf("read of the end: %q, %v", got[:n], err)
	}
}
