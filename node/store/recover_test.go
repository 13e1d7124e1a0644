package store

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// storedChunk returns chunk c of a segment whose bytes are data as a
// client stores it: its share of data, then core.ChunkOverhead bytes
// standing for the nonce and tag of its encryption (a node never looks
// into a chunk).
func storedChunk(data []byte, c int) []byte {
	s, e := core.ChunkBounds(int64(len(data)), c)
	return append(slices.Clip(data[s:e]), make([]byte, core.ChunkOverhead)...)
}

// testSegment describes data stored as segment k, with a new id.
func testSegment(k int64, data []byte) wire.Segment {
	md := md5.Sum(data)
	sg := wire.Segment{Index: k, ID: core.NewVersion(), Size: int64(len(data)), MD5: hex.EncodeToString(md[:])}
	for c := range core.NumChunks {
		ch := storedChunk(data, c)
		sum := sha256.Sum256(ch)
		sg.Chunks[c] = wire.ChunkInfo{Size: int64(len(ch)), SHA256: hex.EncodeToString(sum[:])}
	}
	return sg
}

// stageSegment stages the chunks of data, segment sg, as chunk files of
// upload.
func stageSegment(t *testing.T, u *UserDir, upload string, sg wire.Segment, data []byte) {
	t.Helper()
	for c := range core.NumChunks {
		ch := storedChunk(data, c)
		sc, err := u.Stage(upload, sg.ID, c, int64(len(ch)), true)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = sc.Write(ch)
		if _, err := sc.Finish([32]byte{}); err != nil {
			t.Fatal(err)
		}
		if err := sc.Keep(); err != nil {
			t.Fatal(err)
		}
		sc.Close()
	}
}

// testData is n bytes that differ with seed.
func testData(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

// putFile commits at p a new file of one segment of data in chunk files
// and returns its meta.
func putFile(t *testing.T, u *UserDir, p string, data []byte) wire.Meta {
	t.Helper()
	v := core.NewVersion()
	sg := testSegment(0, data)
	m := wire.Meta{Stamp: v, Born: v, Version: v, Size: int64(len(data)), Mode: 0o644, Segments: []wire.Segment{sg}}
	upload := randHex(16)
	stageSegment(t, u, upload, sg, data)
	if _, err := u.Commit(p, upload, m, false, nil); err != nil {
		t.Fatal(err)
	}
	return m
}

// openStore opens the store in dir and the user alice's folder.
func openStore(t *testing.T, dir string) (*Store, *UserDir) {
	t.Helper()
	st, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.User("alice")
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	return st, u
}

// TestMetaMaxFile: the record of a file of the largest size (256 GiB,
// 65,536 segments) is written and read back after a restart, and the
// chunk files it lists stay. (The reviewer's case: a record over the old
// 1 MiB cap, about 2,200 segments, could not be read back and recovery
// deleted every chunk file of the file.)
func TestMetaMaxFile(t *testing.T) {
	const nseg = 65536 // core.MaxFileSize / core.SegmentSize
	dir := t.TempDir()
	st, u := openStore(t, dir)
	data := testData(64<<10, 1)
	v := core.NewVersion()
	m := wire.Meta{Stamp: v, Born: v, Version: v, Size: nseg * core.SegmentSize, Mode: 0o644}
	upload := randHex(16)
	sg := testSegment(0, data)
	stageSegment(t, u, upload, sg, data)
	for k := int64(0); k < nseg; k++ {
		// Same bytes, a new id each: one segment stored is enough.
		m.Segments = append(m.Segments, sg)
		sg.Index, sg.ID = k+1, core.NewVersion()
	}
	if err := wire.CheckSegments(&m); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	held, err := u.Commit("big", upload, m, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Sync(); err != nil {
		t.Fatal(err)
	}
	wrote := time.Since(start)
	if held[0] != 0xf {
		t.Fatalf("held %b of segment 0", held[0])
	}
	size, _ := u.regularSize("files/big/@meta")
	before := u.Usage().Bytes
	st.Close()

	start = time.Now()
	st, u = openStore(t, dir)
	defer st.Close()
	ms, err := u.Lookup("big")
	read := time.Since(start)
	if err != nil || len(ms) != 1 || len(ms[0].Segments) != nseg || ms[0].Held[0] != 0xf {
		t.Fatalf("the big file after a restart: err %v, %d metas", err, len(ms))
	}
	if got := u.Usage().Bytes; got != before || got != measured(u) {
		t.Fatalf("usage %d after a restart, %d before, folder holds %d", got, before, measured(u))
	}
	t.Logf("record of %d segments: %d bytes (%d per segment, cap %d); commit+flush %v, restart+lookup %v",
		nseg, size, size/nseg, maxMetaSize, wrote, read)
	if size > maxMetaSize/2 {
		t.Errorf("the largest record takes %d bytes: less than twice under the cap %d", size, maxMetaSize)
	}
}

// TestMetaOverCapRefused: a record over the cap is never written (it
// could not be read back), and one found over the cap on disk is an error,
// not a record cut short.
func TestMetaOverCapRefused(t *testing.T) {
	st, u := openStore(t, t.TempDir())
	defer st.Close()
	r := &Record{Stamp: core.NewVersion(), Born: core.NewVersion(), Inline: map[int][]byte{0: make([]byte, maxMetaSize)}}
	if err := u.mkdir("files/x"); err != nil {
		t.Fatal(err)
	}
	u.mu.Lock()
	err := u.writeMeta("files/x", r)
	u.mu.Unlock()
	if !errors.Is(err, errMetaTooLarge) {
		t.Fatalf("writing a record over the cap: %v", err)
	}
	f, err := os.Create(filepath.Join(st.dir, usersDir, "alice", "files/x", metaName))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxMetaSize + 1); err != nil { // sparse: quick
		t.Fatal(err)
	}
	f.Close()
	if _, err := u.readMetaFile("files/x/" + metaName); !errors.Is(err, errMetaTooLarge) {
		t.Fatalf("reading a meta over the cap: %v", err)
	}
}

// TestRecoveryKeepsSegmentsOfUnreadableRecords: a record recovery cannot
// read (@meta not JSON, over the cap) makes it keep every chunk file of
// the user, counted in their use, and the next start that reads
// everything deletes the unreferenced ones again. (A torn @meta.new, a
// change never reported durable, is removed with the segments only it
// listed: node's TestRecovery.)
func TestRecoveryKeepsSegmentsOfUnreadableRecords(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, metaPath string)
	}{
		{"bad json", func(t *testing.T, p string) {
			if err := os.WriteFile(p, []byte(`{"stamp":`), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"over the cap", func(t *testing.T, p string) {
			if err := os.Truncate(p, maxMetaSize+1); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st, u := openStore(t, dir)
			putFile(t, u, "a", testData(100<<10, 2))
			putFile(t, u, "b", testData(100<<10, 3))
			st.Close()
			tc.spoil(t, filepath.Join(dir, usersDir, "alice", "files/a", metaName))
			// An unreferenced chunk file: deleted by a start that reads
			// every record, kept by one that does not.
			orphan := core.NewVersion()
			name := filepath.Join(dir, usersDir, "alice", segFile(orphan, 2))
			if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
				t.Fatal(err)
			}
			o, err := os.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			w := newChunkWriter(o, false, newOutPool(), true)
			_, _ = w.Write([]byte("orphan"))
			if _, err := w.finish(2, [32]byte{}); err != nil {
				t.Fatal(err)
			}
			o.Close()
			files := func(u *UserDir) int64 { return segmentsBytes(u) }

			st, u = openStore(t, dir)
			if u.segs.refsOK {
				t.Error("recovery read every record")
			}
			if _, err := os.Stat(name); err != nil {
				t.Errorf("an unreferenced chunk file was deleted while a record was unreadable: %v", err)
			}
			want := 2*4*chunkFileSize(25<<10+core.ChunkOverhead) + chunkFileSize(6)
			if got := files(u); got != want {
				t.Errorf("segments folder holds %d bytes, want %d (nothing deleted)", got, want)
			}
			if got := u.Usage().Bytes; got != measured(u) {
				t.Errorf("usage %d, folder holds %d", got, measured(u))
			}
			st.Close()

			// The record made readable again (or gone): the next start
			// deletes what no record lists.
			if err := os.RemoveAll(filepath.Join(dir, usersDir, "alice", "files/a")); err != nil {
				t.Fatal(err)
			}
			st, u = openStore(t, dir)
			defer st.Close()
			if !u.segs.refsOK {
				t.Error("recovery still misses records")
			}
			if _, err := os.Stat(name); err == nil {
				t.Error("the unreferenced chunk file stays")
			}
			if got := u.Usage().Bytes; got != measured(u) {
				t.Errorf("usage %d, folder holds %d", got, measured(u))
			}
		})
	}
}

// TestRecoveryRefusesUnreadableUser: a user whose folder recovery cannot
// read (its segments folder is not a folder) is refused with
// ErrNotRecovered, not served as a user holding nothing; once the folder
// is readable a login recovers it and counts what it holds.
func TestRecoveryRefusesUnreadableUser(t *testing.T) {
	dir := t.TempDir()
	st, u := openStore(t, dir)
	putFile(t, u, "a", testData(100<<10, 4))
	if _, err := st.User("bob"); err != nil {
		t.Fatal(err)
	}
	used := u.Usage().Bytes
	st.Close()
	segs := filepath.Join(dir, usersDir, "alice", segmentsDir)
	if err := os.Rename(segs, segs+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(segs, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.User("alice"); !errors.Is(err, ErrNotRecovered) {
		t.Fatalf("alice, whose folder cannot be read: %v", err)
	}
	if _, err := st.User("bob"); err != nil {
		t.Fatalf("bob: %v", err)
	}
	if _, err := st.User("alice"); !errors.Is(err, ErrNotRecovered) {
		t.Fatalf("alice again: %v", err)
	}
	if err := os.Remove(segs); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(segs+".away", segs); err != nil {
		t.Fatal(err)
	}
	u, err = st.User("alice")
	if err != nil {
		t.Fatalf("alice, readable again: %v", err)
	}
	ms, err := u.Lookup("a")
	if err != nil || len(ms) != 1 || ms[0].Held[0] != 0xf {
		t.Fatalf("lookup: %v %+v", err, ms)
	}
	if got := u.Usage().Bytes; got != used || got != measured(u) {
		t.Errorf("usage %d, before %d, folder holds %d", got, used, measured(u))
	}
}

// crash stops st as a power loss would: what no flush made durable stays
// as it is on disk (no last pass promotes @meta.new).
func crash(st *Store) {
	st.fl.mu.Lock()
	for _, fd := range st.fl.cur.files {
		fd.Close()
	}
	st.fl.cur = newBatch()
	st.fl.mu.Unlock()
	st.Close()
}

// TestRecoveryVerifiesHealedChunks: a chunk file a heal commit moved in
// (its version's segment list unchanged, so not new to the entry) and a
// stop tore before the flush is verified by recovery, removed and not
// held; the sound ones stay held, and the use counted is exact.
func TestRecoveryVerifiesHealedChunks(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(Config{Dir: dir, FlushDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.User("alice")
	if err != nil {
		t.Fatal(err)
	}
	data := testData(300<<10, 8)
	a := putFile(t, u, "a", data)
	if err := st.Sync(); err != nil { // @meta durable
		t.Fatal(err)
	}
	id := a.Segments[0].ID
	if _, err := u.Quarantine(id, 1, nil); err != nil {
		t.Fatal(err)
	}
	// Heal: the same version again, with chunk 1.
	upload := randHex(16)
	stageSegment(t, u, upload, a.Segments[0], data)
	if held, err := u.Commit("a", upload, a, false, nil); err != nil || held[0] != 0xf {
		t.Fatalf("heal: %v %b", err, held)
	}
	// The stop tears the healed chunk's data, not yet flushed.
	f, err := os.OpenFile(filepath.Join(dir, usersDir, "alice", segFile(id, 1)), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 4096), ChunkHeaderSize+100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	crash(st)

	st, u = openStore(t, dir)
	defer st.Close()
	ms, err := u.Lookup("a")
	if err != nil || len(ms) != 1 {
		t.Fatalf("lookup: %v %+v", err, ms)
	}
	if got := ms[0].Held[0]; got != 0xf&^(1<<1) {
		t.Errorf("after the restart a holds %04b, want all but the torn chunk 1", got)
	}
	if _, err := os.Stat(filepath.Join(dir, usersDir, "alice", segFile(id, 1))); err == nil {
		t.Error("the torn chunk file stays")
	}
	if got := u.Usage().Bytes; got != measured(u) {
		t.Errorf("usage %d, folder holds %d", got, measured(u))
	}
}
