package store

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// openBudget opens a store whose users' uploads have budget b, and alice's
// folder in it.
func openBudget(t *testing.T, b Budget) (*Store, *UserDir) {
	t.Helper()
	st, err := Open(Config{Dir: t.TempDir(), Budget: b})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	u, err := st.User("alice")
	if err != nil {
		t.Fatal(err)
	}
	return st, u
}

// stageFile stages chunk n of upload, data, as a chunk file.
func stageFile(u *UserDir, upload string, n int, data []byte) error {
	sc, err := u.Stage(upload, tseg, n, int64(len(data)), true)
	if err != nil {
		return err
	}
	defer sc.Close()
	_, _ = sc.Write(data)
	if _, err := sc.Finish([32]byte{}); err != nil {
		return err
	}
	return sc.Keep()
}

func uploadID(i int) string { return fmt.Sprintf("%032x", i+1) }

// tseg is the segment id of the chunks tests stage.
const tseg = "0000018b00000000aaaaaaab"

// stagedFiles counts the files in the user's staging folder.
func stagedFiles(t *testing.T, st *Store, user string) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(st.dir, usersDir, user, stagingDir))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func wantStaged(t *testing.T, what string, got, want Staged) {
	t.Helper()
	if got != want {
		t.Errorf("%s: staged %+v, want %+v", what, got, want)
	}
}

// wantRefusal checks that err refuses with kind and a message saying why.
func wantRefusal(t *testing.T, what string, err, kind error, says string) {
	t.Helper()
	var rf *Refusal
	if !errors.As(err, &rf) || !errors.Is(err, kind) || !strings.Contains(rf.Msg, says) {
		t.Fatalf("%s: got %v, want a refusal (%v) saying %q", what, err, kind, says)
	}
}

// TestBudgetInlineSpills: small chunks wait in memory up to the user's
// memory budget and then on disk, counted alike; a commit takes both kinds
// and uncounts them.
func TestBudgetInlineSpills(t *testing.T) {
	const inlineMax = wire.MaxInlineChunk
	st, u := openBudget(t, Budget{Memory: 2 * inlineMax})
	chunk := make([]byte, inlineMax)
	for i := 0; i < 3; i++ {
		if err := u.StageInline(uploadID(0), tseg, i, chunk); err != nil {
			t.Fatal(err)
		}
	}
	wantStaged(t, "three inline chunks of the largest size", u.Staged(), Staged{Uploads: 1, Bytes: 3 * inlineMax, Memory: 2 * inlineMax})
	if n := stagedFiles(t, st, "alice"); n != 1 {
		t.Errorf("%d files in staging, want the one chunk over the memory budget", n)
	}
	if got := st.mem.used.Load(); got != 2*inlineMax {
		t.Errorf("node memory for inline chunks %d, want %d", got, 2*inlineMax)
	}
	// A chunk sent again replaces the one before, wherever it was.
	if err := u.StageInline(uploadID(0), tseg, 2, chunk[:100]); err != nil {
		t.Fatal(err)
	}
	wantStaged(t, "the third chunk again, short", u.Staged(), Staged{Uploads: 1, Bytes: 2*inlineMax + 100, Memory: 2 * inlineMax})

	ver := core.NewVersion()
	seg := wire.Segment{ID: tseg, Size: 3*inlineMax + 100, MD5: strings.Repeat("0", 32)}
	m := wire.Meta{Stamp: ver, Born: ver, Version: ver, Size: seg.Size, Mode: 0o644}
	for i, size := range []int{inlineMax, inlineMax, 100, inlineMax} {
		sum := sha256.Sum256(chunk[:size])
		seg.Chunks[i] = wire.ChunkInfo{Size: int64(size), SHA256: fmt.Sprintf("%x", sum)}
	}
	m.Segments = []wire.Segment{seg}
	held, err := u.Commit("f", uploadID(0), m, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(held, []uint8{0b0111}) {
		t.Errorf("commit holds %v, want chunks 0 1 2", held)
	}
	wantStaged(t, "after the commit", u.Staged(), Staged{})
	if got := st.mem.used.Load(); got != 0 {
		t.Errorf("node memory for inline chunks %d after the commit, want 0", got)
	}
	if n := stagedFiles(t, st, "alice"); n != 0 {
		t.Errorf("%d files in staging after the commit", n)
	}
}

// TestBudgetNodeMemory: the node's memory for inline chunks, shared by all
// users, never refuses a chunk: beyond it chunks go to disk.
func TestBudgetNodeMemory(t *testing.T) {
	st, u := openBudget(t, Budget{})
	st.mem.max = wire.MaxInlineChunk
	bob, err := st.User("bob")
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, wire.MaxInlineChunk)
	if err := u.StageInline(uploadID(0), tseg, 0, chunk); err != nil {
		t.Fatal(err)
	}
	if err := bob.StageInline(uploadID(0), tseg, 0, chunk); err != nil {
		t.Fatalf("bob's chunk with the node's memory full: %v", err)
	}
	wantStaged(t, "bob", bob.Staged(), Staged{Uploads: 1, Bytes: wire.MaxInlineChunk})
	wantStaged(t, "node", st.Staged(), Staged{Uploads: 2, Bytes: 2 * wire.MaxInlineChunk, Memory: wire.MaxInlineChunk})
}

// TestBudgetLimits: a user at the limit of uploads or bytes is refused as
// busy, saying which limit; a chunk over the whole budget is no space; a
// refused or failed chunk leaves nothing counted.
func TestBudgetLimits(t *testing.T) {
	st, u := openBudget(t, Budget{Uploads: 2, Bytes: 100 << 10})
	data := make([]byte, 40<<10)
	for i := 0; i < 2; i++ {
		if err := stageFile(u, uploadID(i), 0, data); err != nil {
			t.Fatal(err)
		}
	}
	wantRefusal(t, "third upload", stageFile(u, uploadID(2), 0, data), core.ErrBusy, "2 of your uploads are waiting")
	wantRefusal(t, "third upload, inline", u.StageInline(uploadID(2), tseg, 0, data[:10]), core.ErrBusy, "2 of your uploads are waiting")
	wantRefusal(t, "over the bytes", stageFile(u, uploadID(1), 1, data), core.ErrBusy, "hold 80.0 KiB, and 40.0 KiB more would pass the 100.0 KiB")
	wantRefusal(t, "chunk over the budget", stageFile(u, uploadID(0), 1, make([]byte, 101<<10)), core.ErrNoSpace, "too large for this node")
	wantStaged(t, "after the refusals", u.Staged(), Staged{Uploads: 2, Bytes: 80 << 10})

	// A chunk whose receipt fails is uncounted.
	sc, err := u.Stage(uploadID(5), tseg, 0, 10, true)
	if err == nil {
		sc.Close()
	}
	wantRefusal(t, "a third upload, begun", err, core.ErrBusy, "waiting")
	sc, err = u.Stage(uploadID(1), tseg, 3, 10, true)
	if err != nil {
		t.Fatal(err)
	}
	sc.Close() // never kept
	wantStaged(t, "after a chunk given up", u.Staged(), Staged{Uploads: 2, Bytes: 80 << 10})

	// Another user's budget is their own.
	bob, err := st.User("bob")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := stageFile(bob, uploadID(i), 0, data); err != nil {
			t.Fatalf("bob with alice at her limits: %v", err)
		}
	}
}

// TestBudgetDrops: uploads go when the user's connections are gone
// (DropUploads), when idle for the budget's Idle (DropIdle), and, for a
// user at a limit, when idle long enough to be reclaimed.
func TestBudgetDrops(t *testing.T) {
	const idle = 200 * time.Millisecond
	st, u := openBudget(t, Budget{Uploads: 2, Idle: idle})
	data := make([]byte, 20<<10)
	if err := stageFile(u, uploadID(0), 0, data); err != nil {
		t.Fatal(err)
	}
	if err := u.StageInline(uploadID(1), tseg, 0, data[:100]); err != nil {
		t.Fatal(err)
	}
	if n := u.DropUploads(); n != 2 {
		t.Errorf("DropUploads dropped %d uploads, want 2", n)
	}
	wantStaged(t, "after DropUploads", u.Staged(), Staged{})
	if n := stagedFiles(t, st, "alice"); n != 0 {
		t.Errorf("%d files in staging after DropUploads", n)
	}

	if err := stageFile(u, uploadID(0), 0, data); err != nil {
		t.Fatal(err)
	}
	if n := st.DropIdle(time.Now()); n != 0 {
		t.Errorf("DropIdle dropped %d fresh uploads", n)
	}
	if n := st.DropIdle(time.Now().Add(idle + time.Millisecond)); n != 1 {
		t.Errorf("DropIdle dropped %d uploads idle too long, want 1", n)
	}
	wantStaged(t, "after DropIdle", u.Staged(), Staged{})

	// At the limit of uploads, an upload idle for the reclaim age
	// (here Idle, under a minute) makes room for the next.
	for i := 0; i < 2; i++ {
		if err := stageFile(u, uploadID(i), 0, data); err != nil {
			t.Fatal(err)
		}
	}
	wantRefusal(t, "third upload at once", stageFile(u, uploadID(2), 0, data), core.ErrBusy, "waiting")
	time.Sleep(idle + 50*time.Millisecond)
	if err := stageFile(u, uploadID(2), 0, data); err != nil {
		t.Fatalf("third upload once the others are idle: %v", err)
	}
	if u.up.has(uploadID(0), partKey{tseg, 0}) || !u.up.has(uploadID(1), partKey{tseg, 0}) {
		t.Errorf("reclaimed the wrong upload: want the oldest (0) gone, 1 kept")
	}
	wantStaged(t, "after reclaiming", u.Staged(), Staged{Uploads: 2, Bytes: 40 << 10})
	if n := stagedFiles(t, st, "alice"); n != 2 {
		t.Errorf("%d files in staging, want 2", n)
	}
}

// TestBudgetDefaults: zero fields take the defaults.
func TestBudgetDefaults(t *testing.T) {
	b := Budget{}.withDefaults()
	if b != (Budget{Uploads: DefaultUploads, Bytes: DefaultBytes, Memory: DefaultMemory, Idle: DefaultIdle}) {
		t.Errorf("defaults %+v", b)
	}
}

// TestBudgetHoldForCommit: the chunks a commit checked stay until it takes
// them: an idle drop or a reclaim by the user's next upload, which do not
// take the user's lock, must not remove them in between (the commit would
// then write an entry holding none of the chunks it was asked to hold).
func TestBudgetHoldForCommit(t *testing.T) {
	const idle = 50 * time.Millisecond
	st, u := openBudget(t, Budget{Uploads: 1, Idle: idle})
	data := make([]byte, 20<<10)
	if err := stageFile(u, uploadID(0), 0, data); err != nil {
		t.Fatal(err)
	}
	if n := u.up.hold(uploadID(0), []partKey{{tseg, 0}, {tseg, 1}}); n != 1 {
		t.Fatalf("hold of a missing chunk = %d, want 1", n)
	}
	if n := u.up.hold(uploadID(0), []partKey{{tseg, 0}}); n != -1 {
		t.Fatalf("hold of the staged chunk = %d, want -1", n)
	}
	time.Sleep(idle + 20*time.Millisecond)
	if n := st.DropIdle(time.Now()); n != 0 {
		t.Errorf("DropIdle dropped %d uploads held by a commit", n)
	}
	wantRefusal(t, "a second upload while the first is held", stageFile(u, uploadID(1), 0, data), core.ErrBusy, "waiting")
	if !u.up.has(uploadID(0), partKey{tseg, 0}) {
		t.Fatal("the held upload's chunk went before its commit took it")
	}
	u.up.unhold(uploadID(0))
	if n := st.DropIdle(time.Now()); n != 1 {
		t.Errorf("DropIdle after the hold ended dropped %d uploads, want 1", n)
	}
	wantStaged(t, "after the drop", u.Staged(), Staged{})
}
