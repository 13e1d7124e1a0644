package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"dfs/core"
	"dfs/core/wire"
)

// chunkFileSum returns the SHA-256 the header of chunk file c of segment
// id names, and the file's FileInfo, to tell files apart (os.SameFile).
func chunkFileSum(t *testing.T, u *UserDir, id string, c int) ([32]byte, os.FileInfo) {
	t.Helper()
	cf, err := u.openChunk(segFile(id, c))
	if err != nil {
		t.Fatal(err)
	}
	defer cf.f.Close()
	fi, err := cf.f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return cf.hdr.SHA256, fi
}

// TestCommitKeepsPresentChunks: a commit never replaces a sound chunk file
// another version lists. A client reusing a segment id for other bytes
// does not hold them (the version that lists the id first keeps its
// chunks), a heal's copy of a chunk present meanwhile is dropped for the
// file there, and the use counted stays exact. Only a bad file is
// replaced (it goes to quarantine).
func TestCommitKeepsPresentChunks(t *testing.T) {
	st, u := openStore(t, t.TempDir())
	defer st.Close()
	data := testData(100<<10, 5)
	a := putFile(t, u, "a", data)
	id := a.Segments[0].ID
	sum0, ino0 := chunkFileSum(t, u, id, 0)

	// b reuses a's segment id for other bytes.
	other := testData(100<<10, 6)
	sg := testSegment(0, other)
	sg.ID = id
	v := core.NewVersion()
	b := wire.Meta{Stamp: v, Born: v, Version: v, Size: int64(len(other)), Mode: 0o644, Segments: []wire.Segment{sg}}
	upload := randHex(16)
	stageSegment(t, u, upload, sg, other)
	held, err := u.Commit("b", upload, b, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if held[0] != 0 {
		t.Errorf("b holds %b of a segment whose id a lists with other bytes", held[0])
	}
	if ms, err := u.Lookup("a"); err != nil || ms[0].Held[0] != 0xf {
		t.Fatalf("a after b's commit: %v %+v", err, ms)
	}
	if sum, fi := chunkFileSum(t, u, id, 0); sum != sum0 || !os.SameFile(fi, ino0) {
		t.Fatal("a's chunk file was replaced")
	}
	if got := u.Usage().Bytes; got != measured(u) || stagingBytes(u) != 0 {
		t.Fatalf("usage %d, folder holds %d (staged %d)", got, measured(u), stagingBytes(u))
	}

	// A heal copy of chunks present: the files there stay.
	upload = randHex(16)
	stageSegment(t, u, upload, a.Segments[0], data)
	if held, err := u.Commit("a", upload, a, false, nil); err != nil || held[0] != 0xf {
		t.Fatalf("heal commit: %v %b", err, held)
	}
	if _, fi := chunkFileSum(t, u, id, 0); !os.SameFile(fi, ino0) {
		t.Fatal("a heal replaced a sound chunk file")
	}
	if got := u.Usage().Bytes; got != measured(u) || stagingBytes(u) != 0 {
		t.Fatalf("usage %d, folder holds %d (staged %d)", got, measured(u), stagingBytes(u))
	}

	// A bad chunk file (its header says another size) is replaced by a
	// heal's copy and goes to quarantine.
	path := filepath.Join(st.dir, usersDir, "alice", segFile(id, 1))
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[23]++ // the data size's last byte
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	upload = randHex(16)
	stageSegment(t, u, upload, a.Segments[0], data)
	if held, err := u.Commit("a", upload, a, false, nil); err != nil || held[0] != 0xf {
		t.Fatalf("heal commit over a bad file: %v %b", err, held)
	}
	if cf, err := u.openChunk(segFile(id, 1)); err != nil {
		t.Fatalf("the healed chunk: %v", err)
	} else {
		err = cf.verify(nil)
		cf.f.Close()
		if err != nil {
			t.Fatalf("the healed chunk: %v", err)
		}
	}
	if q, _ := u.readNames(quarantineDir); len(q) != 1 {
		t.Errorf("quarantine holds %v", q)
	}
	if got := u.Usage().Bytes; got != measured(u) || stagingBytes(u) != 0 {
		t.Fatalf("usage %d, folder holds %d (staged %d)", got, measured(u), stagingBytes(u))
	}
}

// TestCommitRefusesDuplicateIDs: a meta listing one segment id twice is
// refused (its segments would share chunk files) and changes nothing.
func TestCommitRefusesDuplicateIDs(t *testing.T) {
	st, u := openStore(t, t.TempDir())
	defer st.Close()
	data := testData(1000, 7)
	s0 := testSegment(0, data)
	s1 := s0
	s1.Index = 1
	v := core.NewVersion()
	m := wire.Meta{Stamp: v, Born: v, Version: v, Size: core.SegmentSize + 1000, Mode: 0o644, Segments: []wire.Segment{s0, s1}}
	upload := randHex(16)
	stageSegment(t, u, upload, s0, data)
	var rf *Refusal
	if _, err := u.Commit("f", upload, m, false, nil); !errors.As(err, &rf) || rf.Err != ErrBadMeta {
		t.Fatalf("commit of one id twice: %v", err)
	}
	if ms, err := u.Lookup("f"); err != nil || len(ms) != 0 {
		t.Fatalf("a refused commit made f: %v %+v", err, ms)
	}
	if got := u.Usage().Bytes; got != measured(u) {
		t.Fatalf("usage %d, folder holds %d", got, measured(u))
	}
}
