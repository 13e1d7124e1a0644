package node

import (
	"errors"
	"strings"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/wire"
	"dfs/node/store"
)

// TestQuota: an upload that would take a user past their quota is refused
// with StatusQuota and a message saying where they stand, on a connection
// that stays in step; staged uploads count; another user is unaffected;
// INFO reports use and quota; and what a delete frees comes back once the
// grace is over.
func TestQuota(t *testing.T) {
	users := &fakeUsers{m: map[string]string{"alice": "Crimson33", "bob": "Velvet77"}}
	n := startNode(t, func(cfg *Config) { cfg.Users = users })
	const chunkFile = 64 + 512<<10 + core.ChunkOverhead + 9*4 // a chunk file of 512 KiB and the overhead: header, data, a CRC per 64 KiB block
	users.setQuota("alice", chunkFile+4<<10)
	c := login(t, n.addr, "alice", "Crimson33")
	if _, _, err := c.upload("a", testData(2<<20, 1)); err != nil {
		wantStatus(t, "four chunks of 512 KiB against 516 KiB", err, wire.StatusQuota)
	} else {
		t.Fatal("2 MiB stored against a quota of 516 KiB")
	}
	// The first chunk of that upload fit and waits staged: it counts.
	info := func(c *tclient) wire.InfoResp {
		t.Helper()
		var r wire.InfoResp
		if err := c.call(wire.TypeInfo, wire.InfoReq{}, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := info(c); r.Quota != chunkFile+4<<10 || r.Used != chunkFile {
		t.Errorf("INFO with two chunks staged: used %d of %d", r.Used, r.Quota)
	}
	err := c.put(randHex(16), testSeg, 0, testData(600<<10, 2))
	wantStatus(t, "a chunk past the quota", err, wire.StatusQuota)
	var re *wire.RemoteError
	if errors.As(err, &re); re.Message != "over quota: using 512.1 KiB of 516.1 KiB, no room for 600.1 KiB more; remove files or ask the operator to raise it" {
		t.Errorf("message %q", re.Message)
	}
	// Small (inline) chunks too, on the same connection, which is still in
	// step; one that fits is taken.
	err = c.putChunk(wire.PutChunkReq{Segment: testSeg, Upload: randHex(16), Chunk: 0, Inline: true}, testData(8<<10, 3))
	wantStatus(t, "an inline chunk past the quota", err, wire.StatusQuota)
	if err := c.putChunk(wire.PutChunkReq{Segment: testSeg, Upload: randHex(16), Chunk: 0, Inline: true}, testData(4<<10, 3)); err != nil {
		t.Errorf("an inline chunk that fits: %v", err)
	}

	// Bob has no quota.
	b := login(t, n.addr, "bob", "Velvet77")
	if _, _, err := b.upload("big", testData(3<<20, 4)); err != nil {
		t.Fatalf("bob: %v", err)
	}
	if r := info(b); r.Quota != 0 || r.Used < 3<<20 {
		t.Errorf("bob's INFO: used %d of %d", r.Used, r.Quota)
	}

	// A raised quota applies at once; a file stored, then removed, is
	// freed after the grace.
	users.setQuota("alice", 4<<20)
	if _, _, err := c.upload("a", testData(2<<20, 1)); err != nil {
		t.Fatal(err)
	}
	users.setQuota("alice", 3<<20)
	if err := c.updateOp(wire.UpdateDelete, "a", wire.Meta{Stamp: core.NewVersion()}); err != nil {
		t.Fatal(err)
	}
	err = c.put(randHex(16), testSeg, 0, testData(600<<10, 2))
	wantStatus(t, "right after the delete", err, wire.StatusQuota)
	if errors.As(err, &re); !strings.Contains(re.Message, "(2.0 MiB of it is replaced or removed files, freed within 2m0s)") {
		t.Errorf("message %q", re.Message)
	}
	if err := n.s.store.Sync(); err != nil {
		t.Fatal(err)
	}
	n.s.store.SweepReleased(time.Now())
	if err := c.put(randHex(16), testSeg, 0, testData(600<<10, 2)); err != nil {
		t.Errorf("after the sweep: %v", err)
	}
}

// TestDrop: DROP removes what an upload staged, in chunk files and inline,
// so that it stops counting against the quota and the user's budget at
// once; a commit of it then finds no chunks.
func TestDrop(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	up := randHex(16)
	if err := c.put(up, testSeg, 0, testData(300<<10, 1)); err != nil {
		t.Fatal(err)
	}
	if err := c.putChunk(wire.PutChunkReq{Segment: testSeg, Upload: up, Chunk: 1, Inline: true}, testData(4<<10, 2)); err != nil {
		t.Fatal(err)
	}
	var r wire.InfoResp
	if err := c.call(wire.TypeInfo, wire.InfoReq{}, &r); err != nil || r.Used < 300<<10 {
		t.Fatalf("INFO with a chunk staged: used %d, %v", r.Used, err)
	}
	if err := c.call(wire.TypeDrop, wire.DropReq{Upload: up}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.call(wire.TypeInfo, wire.InfoReq{}, &r); err != nil || r.Used != 0 {
		t.Errorf("INFO after DROP: used %d, %v", r.Used, err)
	}
	if got := n.s.store.Staged(); got != (store.Staged{}) {
		t.Errorf("uploads after DROP hold %+v, want nothing", got)
	}
	data := testData(300<<10, 1)
	sg := segmentOf(0, data)
	sg.ID = testSeg
	m := fileMeta(int64(len(data)), []wire.Segment{sg})
	err := c.call(wire.TypeCommit, wire.CommitReq{Path: "f", Upload: up, Meta: m, Need: []int{0, 1}}, nil)
	wantStatus(t, "a commit of the dropped upload", err, wire.StatusIncomplete)
	wantStatus(t, "DROP of a bad id", c.call(wire.TypeDrop, wire.DropReq{Upload: "x"}, nil), wire.StatusBadRequest)
}
