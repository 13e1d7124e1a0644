package node

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/wire"
	"dfs/node/store"
)

// eveNode starts a node with alice, bob and eve, whose per-user limits are
// b and four connections: small enough for a test to fill.
func eveNode(t *testing.T, b store.Budget) *testNode {
	return startNode(t, func(c *Config) {
		c.Users = &fakeUsers{m: map[string]string{"alice": "Crimson33", "bob": "Velvet77", "eve": "Magellan101"}}
		c.MaxUserConns = 4
		c.Budget = b
	})
}

// staged returns what user's uploads waiting for their commit hold on n.
func (n *testNode) staged(t *testing.T, user string) store.Staged {
	t.Helper()
	u, err := n.s.store.User(user)
	if err != nil {
		t.Fatal(err)
	}
	return u.Staged()
}

// stagingFiles counts the files in user's staging folder on n.
func (n *testNode) stagingFiles(user string) int {
	ents, _ := os.ReadDir(filepath.Join(n.dir, "users", user, "staging"))
	return len(ents)
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wantBusy checks that err is a busy reply saying says.
func wantBusy(t *testing.T, what string, err error, says string) {
	t.Helper()
	wantStatus(t, what, err, wire.StatusBusy)
	if !strings.Contains(err.Error(), says) {
		t.Errorf("%s: %v, want it to say %q", what, err, says)
	}
}

// TestBudgetEve: Eve, with a raw client, fills each of her budgets on a
// node (connections, uploads, memory for small chunks, bytes) and is
// refused as busy, saying which; Alice's small and large puts still work,
// the node holds no more than Eve's budget, and nothing of Eve's uploads
// once her connections are closed.
func TestBudgetEve(t *testing.T) {
	b := store.Budget{Uploads: 8, Bytes: 1 << 20, Memory: 4 * wire.MaxInlineChunk}
	n := eveNode(t, b)
	var eve []*tclient
	for i := 0; i < 4; i++ {
		eve = append(eve, login(t, n.addr, "eve", "Magellan101"))
	}
	wantBusy(t, "eve's fifth connection", dial(t, n.addr).auth("eve", "Magellan101"), "eve has 4 connections open to this node")

	// Four uploads of four inline chunks of the largest size: one
	// upload's in memory, the rest on disk; then four uploads of one 200
	// KiB chunk each.
	small := testData(wire.MaxInlineChunk, 1)
	for i := 0; i < 4; i++ {
		up := randHex(16)
		for ch := 0; ch < 4; ch++ {
			if err := eve[i].putChunk(wire.PutChunkReq{Segment: testSeg, Upload: up, Chunk: ch, Inline: true}, small); err != nil {
				t.Fatalf("eve's small chunk: %v", err)
			}
		}
	}
	big := testData(200<<10, 2)
	var ups []string
	for i := 0; i < 4; i++ {
		ups = append(ups, randHex(16))
		if err := eve[i].put(ups[i], testSeg, 0, big); err != nil {
			t.Fatalf("eve's large chunk: %v", err)
		}
	}
	full := store.Staged{Uploads: 8, Bytes: 16*wire.MaxInlineChunk + 4*200<<10, Memory: 4 * wire.MaxInlineChunk}
	if got := n.staged(t, "eve"); got != full {
		t.Fatalf("eve's uploads hold %+v, want %+v", got, full)
	}
	wantBusy(t, "eve's ninth upload, small", eve[0].putChunk(wire.PutChunkReq{Segment: testSeg, Upload: randHex(16), Chunk: 0, Inline: true}, small),
		"8 of your uploads are waiting for their commit here")
	wantBusy(t, "eve's ninth upload, large", eve[1].put(randHex(16), testSeg, 0, big), "8 of your uploads are waiting for their commit here")
	wantBusy(t, "eve's bytes", eve[2].put(ups[0], testSeg, 1, big), "your uploads waiting for their commit here hold 928.4 KiB, and 200.0 KiB more would pass the 1.0 MiB")
	if got := n.staged(t, "eve"); got != full {
		t.Errorf("after the refusals eve's uploads hold %+v, want %+v", got, full)
	}

	// Alice is not touched: her own four connections, a small put
	// (inline) and a large one.
	var alice []*tclient
	for i := 0; i < 4; i++ {
		alice = append(alice, login(t, n.addr, "alice", "Crimson33"))
	}
	if _, err := uploadInline(alice[0], "small", testData(3000, 3)); err != nil {
		t.Fatalf("alice's small put: %v", err)
	}
	if _, held, err := alice[3].upload("large", testData(900<<10, 4)); err != nil || !bytes.Equal(held, allHeld(1)) {
		t.Fatalf("alice's large put: held %v, %v", held, err)
	}
	if got := n.staged(t, "alice"); got != (store.Staged{}) {
		t.Errorf("alice's committed puts left %+v staged", got)
	}
	// What the node holds for uploads is Eve's budget, no more.
	if got := n.s.store.Staged(); got != full {
		t.Errorf("the node holds %+v for uploads, want eve's %+v", got, full)
	}

	// Eve's last connection closes: her uploads go, and her budget is
	// whole again.
	for _, c := range eve {
		c.nc.Close()
	}
	waitFor(t, "eve's uploads dropped once her connections closed", func() bool { return n.staged(t, "eve") == store.Staged{} })
	if k := n.stagingFiles("eve"); k != 0 {
		t.Errorf("eve's staging folder holds %d files after her connections closed", k)
	}
	if u, _ := n.s.store.User("eve"); u.Usage().Bytes != 0 {
		t.Errorf("eve's use against her quota after her connections closed: %d bytes, want 0", u.Usage().Bytes)
	}
	e := login(t, n.addr, "eve", "Magellan101")
	if err := e.put(randHex(16), testSeg, 0, big); err != nil {
		t.Errorf("eve's upload once her earlier ones were dropped: %v", err)
	}
}

// TestBudgetIdle: an upload no chunk arrived for within the budget's Idle
// is dropped while its connection stays open.
func TestBudgetIdle(t *testing.T) {
	n := eveNode(t, store.Budget{Idle: 200 * time.Millisecond})
	e := login(t, n.addr, "eve", "Magellan101")
	if err := e.put(randHex(16), testSeg, 0, testData(100<<10, 1)); err != nil {
		t.Fatal(err)
	}
	if err := e.putChunk(wire.PutChunkReq{Segment: testSeg, Upload: randHex(16), Chunk: 1, Inline: true}, testData(100, 2)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "idle uploads dropped", func() bool { return n.staged(t, "eve") == store.Staged{} })
	if k := n.stagingFiles("eve"); k != 0 {
		t.Errorf("eve's staging folder holds %d files after the idle drop", k)
	}
	var resp wire.InfoResp
	if err := e.call(wire.TypeInfo, wire.InfoReq{}, &resp); err != nil {
		t.Errorf("the connection after its uploads were dropped: %v", err)
	} else if resp.Used != 0 {
		t.Errorf("eve's use against her quota after the idle drop: %d bytes, want 0", resp.Used)
	}
}

// TestBudgetCommitElsewhere: a client sends chunks on one connection and
// commits on another, pooled one (core/client does); the first closing
// meanwhile loses nothing while the user has another connection open.
func TestBudgetCommitElsewhere(t *testing.T) {
	n := startNode(t, nil)
	send := login(t, n.addr, "alice", "Crimson33")
	commit := login(t, n.addr, "alice", "Crimson33")
	data := testData(100<<10, 5)
	m, held, err := uploadVia(send, commit, "f", data)
	if err != nil || !bytes.Equal(held, allHeld(1)) {
		t.Fatalf("commit on another connection: held %v, %v", held, err)
	}
	got, err := commit.get("f", m.Segments[0].ID, 3, 0, -1)
	if err != nil || len(got) != len(data)/4+core.ChunkOverhead {
		t.Errorf("chunk 3 read back: %d bytes, %v", len(got), err)
	}
}

// uploadVia sends data's chunks on send, closes it and commits at path on
// commit.
func uploadVia(send, commit *tclient, path string, data []byte) (wire.Meta, []uint8, error) {
	m, up, err := send.sendChunks(data)
	if err != nil {
		return m, nil, err
	}
	send.nc.Close()
	held, err := commit.commit(path, up, m)
	return m, held, err
}
