package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// canServe reports whether every chunk of a file with placement x has a
// holder among the up nodes, and whether every chunk has both.
func canServe(x int, up [core.NumNodes]bool) (whole, full bool) {
	whole, full = true, true
	for ch := 0; ch < core.NumChunks; ch++ {
		k := 0
		for _, n := range core.ChunkNodes(x, ch) {
			if up[n] {
				k++
			}
		}
		whole = whole && k > 0
		full = full && k == 2
	}
	return whole, full
}

// TestSeedMatrix runs the proof of concept's matrix: every set of up nodes,
// PUT and GET and LIST, against files stored with all nodes up.
func TestSeedMatrix(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)

	// Before the user's folder exists.
	l, err := cl.List(ctx)
	if err != nil || len(l.Entries) != 0 {
		t.Fatalf("fresh list: %v, %v", l.Entries, err)
	}
	if _, err := get(t, cl, "nothing"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("get from a fresh cluster: %v, want ErrNotFound", err)
	}
	// Folder exists but is empty.
	mustPut(t, cl, "gone", []byte("x"))
	if err := cl.Remove(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if l, err := cl.List(ctx); err != nil || len(l.Entries) != 0 {
		t.Fatalf("list after rm: %v, %v", l.Entries, err)
	}

	// One file per placement x, all stored with every node up.
	base := map[int][]byte{}
	for i := 0; len(base) < 4; i++ {
		data := []byte(fmt.Sprintf("base file %d %s", i, strings.Repeat("z", i)))
		res := mustPut(t, cl, "base", data)
		e, err := cl.Stat(ctx, "base")
		if err != nil {
			t.Fatal(err)
		}
		if res.State != client.StateOK || e.State != client.StateOK {
			t.Fatalf("put with all up: %v / %v", res.State, e.State)
		}
		if _, seen := base[xOf(e)]; !seen {
			base[xOf(e)] = data
			if err := cl.Rename(ctx, "base", fmt.Sprintf("base%d", xOf(e))); err != nil {
				t.Fatal(err)
			}
		}
	}

	for mask := 0; mask < 16; mask++ {
		var up [core.NumNodes]bool
		for n := 0; n < core.NumNodes; n++ {
			up[n] = mask&(1<<n) != 0
			if !up[n] {
				c.Stop(n)
			}
		}
		label := fmt.Sprintf("up=%04b", mask)
		for x, data := range base {
			name := fmt.Sprintf("base%d", x)
			whole, _ := canServe(x, up)
			got, err := get(t, cl, name)
			switch {
			case mask == 0:
				if !errors.Is(err, core.ErrNoNode) {
					t.Errorf("%s get %s: %v, want ErrNoNode", label, name, err)
				}
			case whole && (err != nil || !bytes.Equal(got, data)):
				t.Errorf("%s get %s: %v (or wrong bytes)", label, name, err)
			case !whole && !errors.Is(err, core.ErrIncomplete):
				t.Errorf("%s get %s: %v, want Transfer failed", label, name, err)
			case !whole && !strings.Contains(err.Error(), "chunk"):
				t.Errorf("%s get %s: %q does not name the missing chunks", label, name, err)
			}
		}
		// PUT with this set up.
		data := []byte("matrix " + label)
		name := "m" + label[3:]
		res, err := put(t, cl, name, data)
		e, _ := cl.Stat(ctx, name)
		whole, full := canServe(xOf(e), up)
		if mask != 0 && errors.Is(err, core.ErrNotFound) {
			t.Errorf("%s: %v", label, err)
		}
		switch {
		case mask == 0:
			if !errors.Is(err, core.ErrNoNode) && !errors.Is(err, core.ErrUnavailable) {
				t.Errorf("%s put: %v, want no node reachable", label, err)
			}
		case err == nil && !whole:
			t.Errorf("%s put succeeded without a copy of every chunk", label)
		case err == nil && full != (res.State == client.StateOK):
			t.Errorf("%s put: state %v, full=%v", label, res.State, full)
		case err != nil && !errors.Is(err, core.ErrUnavailable):
			t.Errorf("%s put: %v, want ErrUnavailable", label, err)
		}
		if err == nil {
			mustGet(t, cl, name, data)
		}
		if mask != 0 {
			l, err := cl.List(ctx)
			if err != nil {
				t.Errorf("%s list: %v", label, err)
			}
			if len(l.Failed) != 4-popcount(mask) {
				t.Errorf("%s list: %d nodes failed, want %d", label, len(l.Failed), 4-popcount(mask))
			}
			for _, e := range l.Entries {
				if strings.HasPrefix(e.Name, "base") {
					x := int(e.Name[4] - '0')
					whole, _ := canServe(x, up)
					if whole != (e.State != client.StateIncomplete) {
						t.Errorf("%s list %s: state %v, whole=%v", label, e.Name, e.State, whole)
					}
				}
			}
		}
		for n := 0; n < core.NumNodes; n++ {
			if !up[n] {
				c.Restart(n)
			}
		}
	}
}

func popcount(m int) int {
	k := 0
	for ; m != 0; m &= m - 1 {
		k++
	}
	return k
}

func TestPutGetSizes(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	for _, size := range []int{0, 1, 2, 3, 4, 5, 7, 9, 1000, 1<<20 + 3, 3 << 20} {
		data := randBytes(t, size)
		name := fmt.Sprintf("dir %d/f_%d.bin", size%3, size)
		mustPut(t, cl, name, data)
		mustGet(t, cl, name, data)
		e, err := cl.Stat(ctxT(t), name)
		if err != nil || e.Size != int64(size) || e.State != client.StateOK {
			t.Fatalf("stat %s: %+v %v", name, e, err)
		}
	}
}

func TestOverwriteMovesChunks(t *testing.T) {
	c := testcluster.Start(t, testcluster.Grace(400*time.Millisecond))
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	seen := map[int]bool{}
	var last []byte
	for i := 0; i < 12; i++ {
		last = randBytes(t, 40_000+i) // over the inline size: chunk files
		mustPut(t, cl, "f", last)
		e, _ := cl.Stat(ctx, "f")
		seen[xOf(e)] = true
		mustGet(t, cl, "f", last)
	}
	if len(seen) < 2 {
		t.Skip("placement never moved in 12 overwrites")
	}
	// Only the newest version's chunks remain once the grace period is
	// over: 8 chunk files in all.
	deadline := time.Now().Add(10 * time.Second)
	for {
		total := 0
		for n := 0; n < core.NumNodes; n++ {
			total += len(chunkFiles(t, c.Dir(n)))
		}
		if total == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d chunk files on the nodes after overwrites, want 8", total)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestHangingNode(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	data := randBytes(t, 100_000)
	mustPut(t, cl, "f", data)
	c.Hang(1)
	start := time.Now()
	mustGet(t, cl, "f", data)
	res := mustPut(t, cl, "g", data)
	if res.State != client.StateDegraded {
		t.Errorf("put with a hanging node: %v, want degraded", res.State)
	}
	// Loose bound: about one second per operation, not the 30 s I/O timeout.
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("a hanging node cost %v", d)
	}
	c.Restart(1)
}

func TestCorruptChunk(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	data := randBytes(t, 300_000)
	mustPut(t, cl, "f", data)
	// Flip a byte in every chunk file on DFS1: its copies are bad.
	files := chunkFiles(t, c.Dir(0))
	if len(files) != 2 {
		t.Fatalf("DFS1 holds %d chunk files, want 2", len(files))
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0xff
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustGet(t, cl, "f", data)
	// Ranged reads too.
	f, err := cl.Open(ctxT(t), "f")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(data))
	if _, err := f.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, data) {
		t.Fatalf("ReadAt over a corrupt copy: %v", err)
	}
	q, _ := filepath.Glob(filepath.Join(c.Dir(0), "users", "alice", "quarantine", "*"))
	if len(q) == 0 {
		t.Errorf("bad copies were not quarantined")
	}
	// Read repair: the chunk read from DFS1 first (its first chunk) gets a
	// good copy back there in the background.
	e, err := cl.Stat(ctxT(t), "f")
	if err != nil {
		t.Fatal(err)
	}
	ch := core.NodeChunks(xOf(e), 0)[0]
	deadline := time.Now().Add(20 * time.Second)
	for !slices.Contains(e.Copies[0][ch], 0) {
		if time.Now().After(deadline) {
			t.Fatalf("chunk %d not repaired on DFS1: copies %v", ch+1, e.Copies[0][ch])
		}
		time.Sleep(100 * time.Millisecond)
		if e, err = cl.Stat(ctxT(t), "f"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInterruptedPutKeepsOldVersion(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	old := randBytes(t, 1000)
	mustPut(t, cl, "f", old)
	big := randBytes(t, 8<<20)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := cl.Put(ctx, "f", &cancelAfter{r: bytes.NewReader(big), n: 6 << 20, cancel: cancel}, int64(len(big)), client.PutOptions{})
	if err == nil {
		t.Fatal("interrupted put succeeded")
	}
	mustGet(t, cl, "f", old)
	_, err = cl.Put(ctxT(t), "new", &cancelAfter{r: bytes.NewReader(big), n: 1 << 20, cancel: func() {}, fail: true}, int64(len(big)), client.PutOptions{})
	if err == nil {
		t.Fatal("failing put succeeded")
	}
	l, err := cl.List(ctxT(t))
	if err != nil || len(l.Entries) != 1 || l.Entries[0].Name != "f" {
		t.Fatalf("list after interrupted puts: %+v %v", l.Entries, err)
	}
}

// cancelAfter cancels (or fails) once n bytes were read in total.
type cancelAfter struct {
	r      *bytes.Reader
	n      int64
	mu     sync.Mutex
	read   int64
	cancel func()
	fail   bool
}

func (c *cancelAfter) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	c.read += int64(len(p))
	over := c.read > c.n
	c.mu.Unlock()
	if over {
		c.cancel()
		if c.fail {
			return 0, errors.New("disk read error")
		}
	}
	return c.r.ReadAt(p, off)
}

func TestFourClients(t *testing.T) {
	c := testcluster.Start(t)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		cl := c.Client(t, "alice", "Crimson33")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				data := randBytes(t, 50_000+i*1000+j)
				name := fmt.Sprintf("c%d/f%d", i, j)
				if _, err := put(t, cl, name, data); err != nil {
					t.Errorf("put %s: %v", name, err)
					return
				}
				got, err := get(t, cl, name)
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("get %s: %v", name, err)
				}
			}
		}()
	}
	wg.Wait()
}

func TestConcurrentOverwritesOneWholeVersion(t *testing.T) {
	c := testcluster.Start(t)
	versions := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		cl := c.Client(t, "alice", "Crimson33")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 4; j++ {
				data := bytes.Repeat([]byte{byte('a' + i*4 + j)}, 200_000+i)
				mu.Lock()
				versions[string(data[:1])+fmt.Sprint(len(data))] = true
				mu.Unlock()
				if _, err := put(t, cl, "shared", data); err != nil {
					t.Errorf("put: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	got, err := get(t, c.Client(t, "alice", "Crimson33"), "shared")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bytes.Repeat(got[:1], len(got))) || !versions[string(got[:1])+fmt.Sprint(len(got))] {
		t.Fatalf("mixed versions after concurrent overwrites")
	}
}

func TestIsolation(t *testing.T) {
	c := testcluster.Start(t)
	alice := c.Client(t, "alice", "Crimson33")
	bob := c.Client(t, "bob", "Velvet77")
	ctx := ctxT(t)
	mustPut(t, alice, "secret.txt", []byte("alice's"))
	if l, err := bob.List(ctx); err != nil || len(l.Entries) != 0 {
		t.Fatalf("bob sees %v (%v)", l.Entries, err)
	}
	if _, err := get(t, bob, "secret.txt"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("bob get: %v", err)
	}
	if err := bob.Remove(ctx, "secret.txt"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("bob rm: %v", err)
	}
	mustPut(t, bob, "secret.txt", []byte("bob's"))
	mustGet(t, alice, "secret.txt", []byte("alice's"))
	mustGet(t, bob, "secret.txt", []byte("bob's"))
	// Alice's password does not open Bob's account.
	wrong := c.Client(t, "bob", "Crimson33")
	if _, err := wrong.Ping(ctx); !errors.Is(err, core.ErrAuth) {
		t.Fatalf("bob with alice's password: %v", err)
	}
	if _, err := get(t, wrong, "secret.txt"); !errors.Is(err, core.ErrAuth) {
		t.Fatalf("get with a wrong password: %v", err)
	}
}

func TestNamespace(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	if _, err := cl.Mkdir(ctx, "d", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Mkdir(ctx, "d", 0o755); !errors.Is(err, core.ErrExist) {
		t.Fatalf("mkdir twice: %v", err)
	}
	mustPut(t, cl, "d/a", []byte("a"))
	if err := cl.Rmdir(ctx, "d"); !errors.Is(err, core.ErrNotEmpty) {
		t.Fatalf("rmdir non-empty: %v", err)
	}
	if err := cl.Rename(ctx, "d", "e"); err != nil {
		t.Fatal(err)
	}
	mustGet(t, cl, "e/a", []byte("a"))
	if _, err := cl.Stat(ctx, "d/a"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("old path after rename: %v", err)
	}
	// A folder removed and made again does not bring back old children.
	if err := cl.Remove(ctx, "e/a"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Rmdir(ctx, "e"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Mkdir(ctx, "e", 0o700); err != nil {
		t.Fatal(err)
	}
	if kids, err := cl.ReadDir(ctx, "e"); err != nil || len(kids) != 0 {
		t.Fatalf("recreated folder: %v %v", kids, err)
	}
	mode := os.FileMode(0o600)
	mt := time.Unix(1_700_000_000, 0)
	if _, err := cl.SetAttr(ctx, "e", &mode, &mt); err != nil {
		t.Fatal(err)
	}
	e, err := cl.Stat(ctx, "e")
	if err != nil || e.Mode != 0o600 || !e.MTime.Equal(mt) {
		t.Fatalf("setattr: %+v %v", e, err)
	}
	// A delete made while a node was down does not come back with it.
	mustPut(t, cl, "x", []byte("x"))
	c.Stop(2)
	if err := cl.Remove(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	c.Restart(2)
	if _, err := cl.Stat(ctx, "x"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("deleted file back after its node returned: %v", err)
	}
	for _, bad := range []string{"../x", "/etc/passwd", "a\x00b", strings.Repeat("n", 256)} {
		if _, err := put(t, cl, bad, []byte("x")); !errors.Is(err, core.ErrBadName) {
			t.Errorf("put %q: %v, want ErrBadName", bad, err)
		}
	}
}

func TestNoNodeReachable(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	for n := 0; n < core.NumNodes; n++ {
		c.Stop(n)
	}
	start := time.Now()
	if _, err := cl.Ping(ctxT(t)); !errors.Is(err, core.ErrNoNode) {
		t.Fatalf("ping with all down: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("no node reachable took %v", d)
	}
}
