package client

import (
	"context"
	"errors"
	"io"

	"testing"
	"time"

	"dfs/core"
)

// countingStore is a namespace with one folder "d" holding "d/a", counting
// what reaches it.
type countingStore struct {
	namespace // nil: methods not overridden would panic
	stats     int
	readdirs  int
	during    func() // runs inside readDir, before it answers
}

func (s *countingStore) readDir(ctx context.Context, dir string) ([]Entry, error) {
	s.readdirs++
	if s.during != nil {
		s.during()
	}
	if dir != "d" {
		return nil, nil
	}
	return []Entry{{Name: "d/a", Size: 1}}, nil
}

func (s *countingStore) stat(ctx context.Context, name string) (Entry, error) {
	s.stats++
	return Entry{Name: name, Size: 2}, nil
}

func (s *countingStore) remove(ctx context.Context, name string, known *Entry) error { return nil }
func (s *countingStore) put(ctx context.Context, name string, r io.ReaderAt, size int64, opt PutOptions) (PutResult, error) {
	return PutResult{Entry: Entry{Name: name, Size: size}}, nil
}
func (s *countingStore) mkdir(ctx context.Context, name string, mode, uid, gid uint32) (Entry, error) {
	return Entry{Name: name, Dir: true}, nil
}

func TestListCache(t *testing.T) {
	ctx := context.Background()
	s := &countingStore{}
	c := newListCache(s, time.Minute)
	if _, err := c.ReadDir(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if e, _ := c.Stat(ctx, "d/a"); e.Size != 1 || s.stats != 0 {
		t.Fatalf("lookup after a listing went to the store (%d stats, size %d)", s.stats, e.Size)
	}
	// A fresh listing knows what is not there (the lookup before a create).
	if _, err := c.Stat(ctx, "d/b"); !errors.Is(err, core.ErrNotFound) || s.stats != 0 {
		t.Fatalf("name missing from a fresh listing: %v, %d stats", err, s.stats)
	}
	// The mount's own changes are written into the listing.
	c.Put(ctx, "d/b", nil, 7, PutOptions{})
	if e, err := c.Stat(ctx, "d/b"); err != nil || e.Size != 7 || s.stats != 0 {
		t.Fatalf("after a put: %+v %v, %d stats", e, err, s.stats)
	}
	c.Remove(ctx, "d/a")
	if _, err := c.Stat(ctx, "d/a"); !errors.Is(err, core.ErrNotFound) || s.stats != 0 {
		t.Fatalf("after a remove: %v, %d stats", err, s.stats)
	}
	es, _ := c.ReadDir(ctx, "d")
	if len(es) != 1 || es[0].Name != "d/b" || s.readdirs != 1 {
		t.Fatalf("listing from the cache: %+v, %d listings", es, s.readdirs)
	}
	// A new folder starts with a fresh, empty listing.
	c.Mkdir(ctx, "d/new", 0o755, 0, 0)
	if _, err := c.Stat(ctx, "d/new/x"); !errors.Is(err, core.ErrNotFound) || s.stats != 0 {
		t.Fatalf("in a new folder: %v, %d stats", err, s.stats)
	}
	if e, err := c.Stat(ctx, "d/new"); err != nil || !e.Dir {
		t.Fatalf("the new folder: %+v %v", e, err)
	}

	// A listing taken while a change was made does not overwrite it.
	racy := newListCache(s, time.Minute)
	s.during = func() { s.during = nil; racy.Put(ctx, "e/late", nil, 3, PutOptions{}) }
	racy.ReadDir(ctx, "e")
	racy.Stat(ctx, "e/late")
	if s.stats != 1 {
		t.Fatalf("a listing that missed a change was kept (%d stats)", s.stats)
	}

	short := newListCache(s, time.Nanosecond)
	short.ReadDir(ctx, "d")
	time.Sleep(time.Millisecond)
	if e, _ := short.Stat(ctx, "d/a"); e.Size != 2 {
		t.Fatalf("an expired listing was used")
	}

	// A listing that served many lookups is listed again when it expires,
	// instead of looking up each remaining name.
	busy := newListCache(s, 50*time.Millisecond)
	busy.ReadDir(ctx, "d")
	for i := 0; i < busyListing; i++ {
		busy.Stat(ctx, "d/a")
	}
	stats, dirs := s.stats, s.readdirs
	time.Sleep(60 * time.Millisecond)
	if e, _ := busy.Stat(ctx, "d/a"); e.Size != 1 || s.stats != stats || s.readdirs != dirs+1 {
		t.Fatalf("busy expired listing: %d stats (was %d), %d listings (was %d)", s.stats, stats, s.readdirs, dirs)
	}
}

// TestListCacheSingleLookup: a name looked up alone (no fresh listing of
// its folder) is answered again from memory for the timeout, so the open
// that follows the kernel's lookup asks the nodes once, not twice; any
// change to its folder, or to the name, voids that answer.
func TestListCacheSingleLookup(t *testing.T) {
	ctx := context.Background()
	s := &countingStore{}
	c := newListCache(s, time.Minute)
	for range 2 {
		if _, err := c.Stat(ctx, "x/f"); err != nil {
			t.Fatal(err)
		}
	}
	if s.stats != 1 {
		t.Fatalf("a second lookup within the timeout: %d stats, want 1", s.stats)
	}
	if err := c.Remove(ctx, "x/g"); err != nil { // a change in the folder
		t.Fatal(err)
	}
	c.Stat(ctx, "x/f")
	if s.stats != 2 {
		t.Fatalf("a lookup after a change in its folder: %d stats, want 2", s.stats)
	}
	c.Stat(ctx, "x/f")
	if err := c.Remove(ctx, "x/f"); err != nil {
		t.Fatal(err)
	}
	c.Stat(ctx, "x/f")
	if s.stats != 3 {
		t.Fatalf("a lookup after the name was removed: %d stats, want 3", s.stats)
	}
	short := newListCache(s, time.Millisecond)
	short.Stat(ctx, "y")
	time.Sleep(5 * time.Millisecond)
	short.Stat(ctx, "y")
	if s.stats != 5 {
		t.Fatalf("a lookup after the timeout: %d stats, want 5", s.stats)
	}
}

// TestListCacheOff: with the cache off (dfc's default) every question goes
// to the nodes, and turning it on later takes effect at once.
func TestListCacheOff(t *testing.T) {
	ctx := context.Background()
	s := &countingStore{}
	c := newListCache(s, 0)
	c.ReadDir(ctx, "d")
	c.Stat(ctx, "d/a")
	c.Stat(ctx, "d/a")
	c.ReadDir(ctx, "d")
	if s.stats != 2 || s.readdirs != 2 {
		t.Fatalf("cache off: %d stats, %d listings; want 2 and 2", s.stats, s.readdirs)
	}
	c.ttlNS.Store(int64(time.Minute))
	c.ReadDir(ctx, "d")
	if e, err := c.Stat(ctx, "d/a"); err != nil || e.Size != 1 || s.stats != 2 {
		t.Fatalf("cache turned on: %+v %v, %d stats", e, err, s.stats)
	}
}

// TestListCacheFolder: creates in a folder move its times and void its
// cached entry for stat, but not for Folder (what a new entry is sealed
// under): a tar into a folder asks the nodes for the folder once, not at
// every file; removing the folder forgets it.
func TestListCacheFolder(t *testing.T) {
	ctx := context.Background()
	s := &countingStore{}
	c := newListCache(s, time.Minute)
	if _, err := c.Stat(ctx, "x/d"); err != nil || s.stats != 1 {
		t.Fatalf("stat: %v, %d stats", err, s.stats)
	}
	for _, f := range []string{"x/d/f1", "x/d/f2", "x/d/f3"} {
		if _, err := c.Folder(ctx, "x/d"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Put(ctx, f, nil, 0, PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if s.stats != 1 {
		t.Errorf("Folder asked the nodes %d times over three creates, want none", s.stats-1)
	}
	if _, err := c.Stat(ctx, "x/d"); err != nil || s.stats != 2 {
		t.Errorf("stat of a folder whose times moved is not asked again: %v, %d stats", err, s.stats)
	}
	c.mu.Lock()
	c.dropLocked("x/d")
	c.mu.Unlock()
	if _, err := c.Folder(ctx, "x/d"); err != nil || s.stats != 3 {
		t.Errorf("Folder of a removed folder answered from the cache: %v, %d stats", err, s.stats)
	}
}
