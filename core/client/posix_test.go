package client_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/core/wire"
	"dfs/internal/testcluster"
)

// TestSymlinkMknodSetAttrs makes special entries and changes every
// attribute on one client, and reads them back from another.
func TestSymlinkMknodSetAttrs(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	other := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	if _, err := cl.MkdirAs(ctx, "d", 0o1777, 1000, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Symlink(ctx, "d/l", "../some/where", 1001, 101); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Open(ctx, "d/l"); !errors.Is(err, core.ErrNotFile) {
		t.Errorf("open of a symlink as a file: %v, want ErrNotFile", err)
	}
	if _, err := cl.Symlink(ctx, "d/l", "x", 0, 0); !errors.Is(err, core.ErrExist) {
		t.Fatalf("symlink over an entry: %v", err)
	}
	if _, err := cl.Mknod(ctx, "d/p", wire.ModeFIFO|0o640, 1002, 102); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Mknod(ctx, "d/s", wire.ModeSocket|0o755, 1003, 103); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Mknod(ctx, "d/dev", 0o020000|0o644, 0, 0); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("mknod of a device: %v", err)
	}
	if _, err := cl.Symlink(ctx, "d/bad", "a\x00b", 0, 0); !errors.Is(err, core.ErrBadName) {
		t.Fatalf("symlink with a NUL: %v", err)
	}
	e, err := other.Stat(ctx, "d/l")
	if err != nil || !e.IsSymlink() || e.Target != "../some/where" || e.Size != int64(len(e.Target)) ||
		e.Mode != wire.ModeSymlink|0o777 || e.UID != 1001 || e.GID != 101 {
		t.Fatalf("symlink seen from another client: %+v %v", e, err)
	}
	kids, err := other.ReadDir(ctx, "d")
	if err != nil || len(kids) != 3 {
		t.Fatalf("listing: %+v %v", kids, err)
	}
	types := map[string]uint32{}
	for _, k := range kids {
		types[k.Name] = k.Mode
	}
	if types["d/p"] != wire.ModeFIFO|0o640 || types["d/s"] != wire.ModeSocket|0o755 || types["d/l"] != wire.ModeSymlink|0o777 {
		t.Fatalf("types in the listing: %v", types)
	}
	if d, _ := other.Stat(ctx, "d"); d.Mode != 0o1777 || d.UID != 1000 || d.GID != 100 {
		t.Fatalf("folder: %+v", d)
	}

	// SetAttrs: all 12 bits, owner, group, both times; ctime moves.
	mustPut(t, cl, "f", []byte("hello"))
	before, _ := other.Stat(ctx, "f")
	mode, uid, gid := uint32(0o7755), uint32(42), uint32(43)
	at, mt := int64(1_600_000_000_000_000_001), int64(1_650_000_000_000_000_002)
	time.Sleep(2 * time.Millisecond)
	if _, err := cl.SetAttrs(ctx, "f", client.Attrs{Mode: &mode, UID: &uid, GID: &gid, ATime: &at, MTime: &mt}); err != nil {
		t.Fatal(err)
	}
	e, err = other.Stat(ctx, "f")
	if err != nil || e.Mode != 0o7755 || e.UID != 42 || e.GID != 43 || e.ATime.UnixNano() != at ||
		e.MTime.UnixNano() != mt || !e.CTime.After(before.CTime) || e.Ino() != before.Ino() {
		t.Fatalf("setattrs seen from another client: %+v (before %+v) %v", e, before, err)
	}
	mustGet(t, other, "f", []byte("hello"))
	// Only the one attribute given changes; a symlink keeps its type.
	mode = 0o700
	if _, err := cl.SetAttrs(ctx, "d/l", client.Attrs{Mode: &mode}); err != nil {
		t.Fatal(err)
	}
	if e, _ := other.Stat(ctx, "d/l"); e.Mode != wire.ModeSymlink|0o700 || e.UID != 1001 || e.Target != "../some/where" {
		t.Fatalf("symlink after chmod: %+v", e)
	}
}

// TestIno checks that inode numbers are the same on two clients and stay
// across a rename and overwrites (a draft on the base, a put over it).
func TestIno(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	other := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	res := mustPut(t, cl, "f", []byte("one"))
	ino := res.Entry.Ino()
	if ino <= client.RootIno {
		t.Fatalf("ino %d", ino)
	}
	check := func(what, name string) {
		t.Helper()
		for _, x := range []*client.Client{cl, other} {
			e, err := x.Stat(ctx, name)
			if err != nil || e.Ino() != ino {
				t.Fatalf("%s: ino %d, want %d (%v)", what, e.Ino(), ino, err)
			}
		}
	}
	check("put", "f")
	if err := cl.Rename(ctx, "f", "g"); err != nil {
		t.Fatal(err)
	}
	check("rename", "g")
	f, err := cl.Open(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	d := cl.NewDraft("g", f)
	if err := d.PutSegment(ctx, 0, []byte("two!")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Commit(ctx, 4, client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	check("draft on the base", "g")
	mustPut(t, cl, "g", []byte("three"))                    // small: one exchange, then waves
	mustPut(t, cl, "g", bytes.Repeat([]byte("4"), 100<<10)) // a draft without a base
	check("put over it", "g")
	mustGet(t, other, "g", bytes.Repeat([]byte("4"), 100<<10))
	if e, _ := other.Stat(ctx, ""); e.Ino() != client.RootIno {
		t.Fatalf("root ino %d", e.Ino())
	}
	if h := mustPut(t, cl, "h", []byte("x")); h.Entry.Ino() == ino {
		t.Fatal("two files with one ino")
	}
}

// TestFolderMTime: a create, remove or rename inside a folder moves its
// mtime and ctime forward, as another client sees it.
func TestFolderMTime(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	other := c.Client(t, "alice", "Crimson33")
	ctx := ctxT(t)
	for _, d := range []string{"a", "b"} {
		if _, err := cl.Mkdir(ctx, d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	last := map[string]time.Time{}
	step := func(what string, dirs ...string) {
		t.Helper()
		for _, d := range dirs {
			e, err := other.Stat(ctx, d)
			if err != nil || !e.MTime.After(last[d]) || !e.CTime.Equal(e.MTime) {
				t.Fatalf("%s: folder %s mtime %v ctime %v, before %v (%v)", what, d, e.MTime, e.CTime, last[d], err)
			}
			last[d] = e.MTime
		}
	}
	step("mkdir", "a", "b")
	time.Sleep(2 * time.Millisecond)
	mustPut(t, cl, "a/f", []byte("x"))
	step("create", "a")
	time.Sleep(2 * time.Millisecond)
	if err := cl.Rename(ctx, "a/f", "b/f"); err != nil {
		t.Fatal(err)
	}
	step("rename", "a", "b")
	time.Sleep(2 * time.Millisecond)
	if err := cl.Remove(ctx, "b/f"); err != nil {
		t.Fatal(err)
	}
	step("remove", "b")
	time.Sleep(2 * time.Millisecond)
	if _, err := cl.Symlink(ctx, "a/l", "f", 0, 0); err != nil {
		t.Fatal(err)
	}
	step("symlink", "a")
}
