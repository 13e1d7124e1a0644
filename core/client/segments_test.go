package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// S is the segment size, for the sizes tests pick around it.
const S = core.SegmentSize

// segmentSizes are the sizes every segment test stores: empty, one byte,
// one segment give or take a byte, and several segments with a short last.
var segmentSizes = []int64{0, 1, S - 1, S, S + 1, 3*S + 5}

// TestSegmentsUpDown: files of one and of many segments are stored, read
// and listed with all nodes up, with any one down, and with only DFS1+DFS3
// or only DFS2+DFS4 up (each pair holds every chunk of every segment).
func TestSegmentsUpDown(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	base := map[string][]byte{}
	for _, size := range segmentSizes {
		name := fmt.Sprintf("base-%d", size)
		base[name] = randBytes(t, int(size))
		res := mustPut(t, cl, name, base[name])
		if res.State != client.StateOK || int64(len(res.Entry.Segments)) != core.NumSegments(size) {
			t.Fatalf("put %s with all up: %v, %d segments", name, res.State, len(res.Entry.Segments))
		}
	}
	for _, down := range [][]int{{0}, {1}, {2}, {3}, {1, 3}, {0, 2}} {
		label := fmt.Sprintf("down=%v", down)
		for _, n := range down {
			c.Stop(n)
		}
		for name, data := range base {
			mustGet(t, cl, name, data)
		}
		written := map[string]int64{}
		for _, size := range segmentSizes {
			name := fmt.Sprintf("new-%v-%d", down, size)
			data := randBytes(t, int(size))
			res, err := put(t, cl, name, data)
			if err != nil {
				t.Fatalf("%s: put %d bytes: %v", label, size, err)
			}
			if size > 0 && res.State != client.StateDegraded {
				t.Errorf("%s: put %d bytes: state %v, want degraded", label, size, res.State)
			}
			mustGet(t, cl, name, data)
			f, err := cl.Open(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, f, data)
			f.Close()
			written[name] = size
		}
		l, err := cl.List(ctx)
		if err != nil {
			t.Fatalf("%s: list: %v", label, err)
		}
		if len(l.Failed) != len(down) {
			t.Errorf("%s: list says %d nodes failed", label, len(l.Failed))
		}
		seen := 0
		for _, e := range l.Entries {
			if size, ok := written[e.Name]; ok {
				seen++
				if e.Size != size || e.State == client.StateIncomplete {
					t.Errorf("%s: list: %s %d bytes %v", label, e.Name, e.Size, e.State)
				}
			}
		}
		if seen != len(written) {
			t.Errorf("%s: list shows %d of the %d files written", label, seen, len(written))
		}
		for _, n := range down {
			c.Restart(n)
		}
	}
	if _, err := cl.Heal(ctx, client.HealOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := cl.Status(ctx)
	if err != nil || !st.OK() {
		t.Fatalf("status after heal: %v\n%s", err, st.Summary(cl))
	}
}

// readAll reads f through ReadAt in pieces that cross chunk and segment
// boundaries and compares with want.
func readAll(t *testing.T, f *client.File, want []byte) {
	t.Helper()
	got := make([]byte, len(want))
	const piece = 3<<20 + 7
	for off := 0; off < len(want); off += piece {
		end := min(off+piece, len(want))
		if n, err := f.ReadAt(got[off:end], int64(off)); n != end-off || err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("ReadAt %d: %d, %v", off, n, err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("ReadAt: %d bytes differ", len(want))
	}
}

// chunkStat is a chunk file's identity on its node's disk.
type chunkStat struct {
	ino   uint64
	mtime time.Time
}

// segmentFiles maps each chunk file under the nodes' segments folders
// ("DFS2/<id>.c1") to its inode and mtime.
func segmentFiles(t *testing.T, c *testcluster.Cluster) map[string]chunkStat {
	out := map[string]chunkStat{}
	for n := 0; n < core.NumNodes; n++ {
		root := c.Dir(n)
		filepath.Walk(filepath.Join(root, "users"), func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() || filepath.Base(filepath.Dir(filepath.Dir(p))) != "segments" {
				return nil
			}
			st := info.Sys().(*syscall.Stat_t)
			out[core.NodeName(n)+"/"+info.Name()] = chunkStat{st.Ino, info.ModTime()}
			return nil
		})
	}
	return out
}

// TestDraftSharesSegments: a Draft on a version that puts one segment
// again leaves the other segments' chunk files as they were on the nodes
// (same inode, same mtime: never sent again), and reads as the base with
// that segment replaced.
func TestDraftSharesSegments(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	size := int64(3*S + 5)
	data := randBytes(t, int(size))
	mustPut(t, cl, "f", data)
	before := segmentFiles(t, c)
	if len(before) != 4*2*4 {
		t.Fatalf("%d chunk files for 4 segments, want 32", len(before))
	}
	base, err := cl.Open(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	old := base.Entry().Segments[1].ID
	d := cl.NewDraft("f", base)
	seg1 := randBytes(t, int(S))
	if err := d.PutSegment(ctx, 1, seg1); err != nil {
		t.Fatal(err)
	}
	// What was put reads back from the nodes' staging before the commit.
	back := make([]byte, 1000)
	if _, err := d.ReadSegment(ctx, 1, back, S/2-500); err != nil || !bytes.Equal(back, seg1[S/2-500:S/2+500]) {
		t.Fatalf("ReadSegment of a staged segment: %v", err)
	}
	if _, err := d.ReadSegment(ctx, 3, back[:10], 0); err != nil || !bytes.Equal(back[:5], data[3*S:]) || !core.AllZero(back[5:10]) {
		t.Fatalf("ReadSegment of a kept segment: %v", err)
	}
	time.Sleep(20 * time.Millisecond) // an mtime that changed would show it
	res, err := d.Commit(ctx, size, client.PutOptions{})
	if err != nil || res.State != client.StateOK {
		t.Fatalf("commit: %v %v", res.State, err)
	}
	copy(data[S:2*S], seg1)
	mustGet(t, cl, "f", data)
	after := segmentFiles(t, c)
	kept, replaced := 0, 0
	for name, st := range before {
		if strings.Contains(name, old) {
			replaced++
			continue // released: deleted after the grace period
		}
		kept++
		if got, ok := after[name]; !ok || got != st {
			t.Errorf("%s: %+v before the overwrite, %+v (present %v) after", name, st, got, ok)
		}
	}
	if kept != 24 || replaced != 8 {
		t.Fatalf("%d chunk files kept, %d replaced; want 24 and 8", kept, replaced)
	}
	newID := res.Entry.Segments[1].ID
	fresh := 0
	for name := range after {
		if strings.Contains(name, newID) {
			fresh++
		}
	}
	if fresh != 8 {
		t.Fatalf("%d chunk files of the new segment, want 8", fresh)
	}
	// A draft aborted changes nothing.
	d = cl.NewDraft("f", res.File)
	if err := d.PutSegment(ctx, 0, randBytes(t, 100)); err != nil {
		t.Fatal(err)
	}
	d.Abort(ctx)
	mustGet(t, cl, "f", data)
}

// TestSparseDraft: a file of holes (segments never put, put as zeros, and
// the end of a segment's span past what it stores) reads zeros without
// costing the nodes space.
func TestSparseDraft(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	used := func() (total uint64) {
		nodes, err := cl.Ping(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			total += n.Info.Used
		}
		return total
	}
	start := used()
	size := int64(10*S + 3)
	d := cl.NewDraft("sparse", nil)
	if err := d.PutSegment(ctx, 0, make([]byte, S)); err != nil { // zeros: a hole
		t.Fatal(err)
	}
	tail := randBytes(t, 100)
	if err := d.PutSegment(ctx, 4, tail); err != nil {
		t.Fatal(err)
	}
	res, err := d.Commit(ctx, size, client.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e := res.Entry; len(e.Segments) != 1 || e.Stored() != 100 || e.Size != size {
		t.Fatalf("entry: %d segments, %d stored, size %d", len(e.Segments), e.Stored(), e.Size)
	}
	want := make([]byte, size)
	copy(want[4*S:], tail)
	mustGet(t, cl, "sparse", want)
	f, err := cl.Open(ctx, "sparse")
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, f, want)
	f.Close()
	// A Put of zeros stores nothing either.
	mustPut(t, cl, "zeros", make([]byte, 3*S+5))
	mustGet(t, cl, "zeros", make([]byte, 3*S+5))
	if grew := used() - start; grew > 64<<10 {
		t.Fatalf("a sparse file of %d bytes and %d of zeros took %d bytes on the nodes", size, 3*S+5, grew)
	}
}

// TestHealSegments: a node wiped clean gets every chunk of every segment
// it is to hold back from heal, and the file is whole with two copies
// again.
func TestHealSegments(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	data := randBytes(t, int(3*S+5))
	mustPut(t, cl, "f", data)
	small := randBytes(t, 1000)
	mustPut(t, cl, "small", small)
	c.Wipe(1)
	e, err := cl.Stat(ctx, "f")
	if err != nil || e.State != client.StateDegraded {
		t.Fatalf("after the wipe: %v %v", e.State, err)
	}
	rep, err := cl.Heal(ctx, client.HealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ChunksCopied != 4*2+2 {
		t.Errorf("heal copied %d chunks, want 10 (two of each of 4 segments, two of the small file)", rep.ChunksCopied)
	}
	e, err = cl.Stat(ctx, "f")
	if err != nil || e.State != client.StateOK {
		t.Fatalf("after heal: %v %v", e.State, err)
	}
	// DFS2, wiped and healed, with DFS4 alone holds every chunk.
	c.Stop(0)
	c.Stop(2)
	mustGet(t, cl, "f", data)
	mustGet(t, cl, "small", small)
	c.Restart(0)
	c.Restart(2)
	if rep := mustHealQuiet(t, cl); rep.ChunksCopied != 0 {
		t.Errorf("a second heal copied %d chunks", rep.ChunksCopied)
	}
}

func mustHealQuiet(t *testing.T, cl *client.Client) client.HealReport {
	t.Helper()
	rep, err := cl.Heal(context.Background(), client.HealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestDraftStores: what a draft says it stores of each segment, the one
// record a writer asks (the mount keeps none of its own): kept from the
// base, put (a hole when all zeros), dropped by a truncate.
func TestDraftStores(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	mustPut(t, cl, "f", randBytes(t, int(2*S)))
	f, err := cl.Open(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	d := cl.NewDraft("f", f)
	defer d.Abort(ctx)
	if err := d.PutSegment(ctx, 1, randBytes(t, 10)); err != nil {
		t.Fatal(err)
	}
	if err := d.PutSegment(ctx, 2, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	type stores struct {
		n   int64
		put bool
	}
	for k, want := range map[int64]stores{0: {S, false}, 1: {10, true}, 2: {0, true}, 3: {0, false}} {
		if n, put := d.Stores(k); n != want.n || put != want.put {
			t.Errorf("Stores(%d) = %d, %v; want %d, %v", k, n, put, want.n, want.put)
		}
	}
	if got := d.Stored(); got != S+10 {
		t.Errorf("Stored() = %d, want %d", got, S+10)
	}
	if cut := d.Truncate(S / 2); cut != 0 {
		t.Errorf("Truncate(S/2) cuts %d, want segment 0", cut)
	}
	if n, put := d.Stores(1); n != 0 || put {
		t.Errorf("Stores(1) after the truncate = %d, %v", n, put)
	}
}
