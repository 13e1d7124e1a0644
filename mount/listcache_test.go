package mount

import (
	"context"
	"testing"
	"time"

	"dfs/core"
)

// countingStore is a Store with one folder "d" holding "d/a".
type countingStore struct {
	Store    // nil: methods not overridden would panic
	stats    int
	readdirs int
}

func (s *countingStore) ReadDir(ctx context.Context, dir string) ([]core.Entry, error) {
	s.readdirs++
	return []core.Entry{{Name: "d/a", Size: 1}}, nil
}

func (s *countingStore) Stat(ctx context.Context, name string) (core.Entry, error) {
	s.stats++
	return core.Entry{Name: name, Size: 2}, nil
}

func (s *countingStore) Remove(ctx context.Context, name string) error { return nil }

func (s *countingStore) RemoveEntry(ctx context.Context, e core.Entry) error { return nil }

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
	if c.Stat(ctx, "d/b"); s.stats != 1 {
		t.Fatalf("a name missing from the listing must be asked for: %d stats", s.stats)
	}
	c.Remove(ctx, "d/a") // any change through the mount invalidates
	if e, _ := c.Stat(ctx, "d/a"); e.Size != 2 || s.stats != 2 {
		t.Fatalf("lookup after a change came from the old listing")
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
