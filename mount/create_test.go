//go:build linux

package mount

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// countingClient counts the versions (commits), segments and syncs a
// mount stores.
type countingClient struct {
	*client.Client
	puts, syncs, durable atomic.Int64
	segments, bytes      atomic.Int64 // PutSegment calls and the bytes they carried
	mu                   sync.Mutex
	put                  []int64 // the segments put, in order (guarded by mu)
}

func (c *countingClient) draft(name string, base *client.File) draft {
	return &countingDraft{Draft: c.Client.NewDraft(name, base), c: c}
}

// putSegments returns the segments put since the last call.
func (c *countingClient) putSegments() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	ks := c.put
	c.put = nil
	slices.Sort(ks)
	return ks
}

type countingDraft struct {
	*client.Draft
	c *countingClient
}

func (d *countingDraft) PutSegment(ctx context.Context, k int64, data []byte) error {
	d.c.segments.Add(1)
	d.c.bytes.Add(int64(len(data)))
	d.c.mu.Lock()
	d.c.put = append(d.c.put, k)
	d.c.mu.Unlock()
	return d.Draft.PutSegment(ctx, k, data)
}

func (d *countingDraft) Commit(ctx context.Context, size int64, opt client.PutOptions) (client.PutResult, error) {
	d.c.puts.Add(1)
	if opt.Sync {
		d.c.durable.Add(1)
	}
	return d.Draft.Commit(ctx, size, opt)
}

func (c *countingClient) Sync(ctx context.Context) error {
	c.syncs.Add(1)
	return c.Client.Sync(ctx)
}

// TestCreateStoresOnce: a file created through the mount is stored once, at
// its close, with its data, mode and time; until then only this mount
// shows it. Not parallel: a parallel test's fork (exec.Command) copies the
// open fd into the child, whose exec closes it, and that close is a FLUSH
// that stores the file early, as it would for any program that forks.
func TestCreateStoresOnce(t *testing.T) {
	c := testcluster.Start(t)
	cl := &countingClient{Client: c.Client(t, "alice", "Crimson33")}
	other := c.Client(t, "alice", "Crimson33")
	mp := mountT(t, cl)
	ctx := context.Background()

	f, err := os.OpenFile(filepath.Join(mp, "new"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("hello"))
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(mp, "new"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if err := f.Chmod(0o640); err != nil {
		t.Fatal(err)
	}
	// This mount shows it, the nodes do not have it yet.
	if fi, err := os.Stat(filepath.Join(mp, "new")); err != nil || fi.Size() != 5 {
		t.Fatalf("stat before close: %v %v", fi, err)
	}
	if names := listNames(t, mp); !slices.Contains(names, "new") {
		t.Fatalf("ls before close: %v", names)
	}
	if _, err := os.OpenFile(filepath.Join(mp, "new"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, os.ErrExist) {
		t.Fatalf("second O_EXCL create: %v, want EEXIST", err)
	}
	if _, err := other.Stat(ctx, "new"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("another client sees a file not yet closed: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if n := cl.puts.Load(); n != 1 {
		t.Errorf("%d puts for create, write, utimens, chmod, close; want 1", n)
	}
	e, err := other.Stat(ctx, "new")
	if err != nil || e.Size != 5 || e.Mode != 0o640 || !e.MTime.Equal(mtime) {
		t.Fatalf("stored entry %+v %v, want 5 bytes, mode 640, mtime %v", e, err, mtime)
	}

	// Removed before its close: nothing is stored.
	g, err := os.Create(filepath.Join(mp, "gone"))
	if err != nil {
		t.Fatal(err)
	}
	g.Write([]byte("x"))
	if err := os.Remove(filepath.Join(mp, "gone")); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Stat(ctx, "gone"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("a file removed before its close was stored: %v", err)
	}
	if _, err := os.Stat(filepath.Join(mp, "gone")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat of the removed file: %v", err)
	}

	// Renamed before its close: stored, then moved.
	h, err := os.Create(filepath.Join(mp, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	h.Write([]byte("moved"))
	if err := os.Rename(filepath.Join(mp, "tmp"), filepath.Join(mp, "final")); err != nil {
		t.Fatal(err)
	}
	h.Write([]byte(" on"))
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	readBack(t, filepath.Join(mp, "final"), []byte("moved on"))
	if e, err := other.Stat(ctx, "final"); err != nil || e.Size != 8 {
		t.Fatalf("renamed file on the nodes: %+v %v", e, err)
	}
	if _, err := other.Stat(ctx, "tmp"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("old name still there: %v", err)
	}
}

// TestFsyncIsDurable: fsync of a changed file stores it with Sync; fsync of
// a file already stored (by its close) and of a folder asks the nodes to
// flush.
func TestFsyncIsDurable(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t)
	cl := &countingClient{Client: c.Client(t, "alice", "Crimson33")}
	mp := mountT(t, cl)
	f, err := os.Create(filepath.Join(mp, "f"))
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("data"))
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if cl.durable.Load() != 1 {
		t.Errorf("fsync of written data: %d durable puts, want 1", cl.durable.Load())
	}
	f.Close()
	if cl.puts.Load() != 1 {
		t.Errorf("close after fsync uploaded again: %d puts", cl.puts.Load())
	}
	g, err := os.OpenFile(filepath.Join(mp, "f"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
	g.Close()
	d, err := os.Open(mp)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if n := cl.syncs.Load(); n != 2 {
		t.Errorf("fsync of a clean file and of a folder: %d syncs, want 2", n)
	}
}

// TestTarKeepsAttributes: tar -x restores modes and times, which reach the
// nodes with each file's one upload.
func TestTarKeepsAttributes(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	mp := mountT(t, cl)
	tmp := t.TempDir()
	src := filepath.Join(tmp, "t")
	os.Mkdir(src, 0o755)
	randomFile(t, filepath.Join(src, "a"), 100)
	os.Chmod(filepath.Join(src, "a"), 0o751)
	old := time.Date(2019, 5, 6, 7, 8, 9, 0, time.UTC)
	os.Chtimes(filepath.Join(src, "a"), old, old)
	run(t, tmp, "tar", "-cf", "t.tar", "-C", src, ".")
	os.Mkdir(filepath.Join(mp, "x"), 0o755)
	run(t, tmp, "tar", "-xpf", "t.tar", "-C", filepath.Join(mp, "x"))
	e, err := cl.Stat(context.Background(), "x/a")
	if err != nil || e.Mode != 0o751 || !e.MTime.Equal(old) {
		t.Fatalf("stored %+v %v, want mode 751 and mtime %v", e, err, old)
	}
}

func listNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}
