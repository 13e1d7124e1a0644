package client_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"dfs/conf"
	"dfs/core"
	"dfs/core/client"
	"dfs/core/wire"
	"dfs/internal/testcluster"
	"dfs/node"
	"dfs/node/store"
)

// TestBudgetEveAlice: Eve fills her per-user budgets on every node with a
// hostile raw client (uploads never committed, memory for small chunks,
// bytes, connections); her own puts then fail as busy, while Alice's small
// and large puts work with both copies of every chunk. The nodes hold no
// more than Eve's budget for uploads, and nothing of hers once her
// connections close.
func TestBudgetEveAlice(t *testing.T) {
	const userConns = 8
	budget := store.Budget{Uploads: 16, Bytes: 4 << 20, Memory: 8 * wire.MaxInlineChunk}
	c := testcluster.Start(t, testcluster.Configure(func(cfg *node.Config) {
		cfg.MaxConns = 3 * userConns // Eve's connections must leave Alice room within it
		cfg.MaxUserConns = userConns
		cfg.Budget = budget
	}))
	if err := conf.AddUser(c.ConfPath(), "eve", "Magellan101"); err != nil {
		t.Fatal(err)
	}
	var eve [core.NumNodes][]*wire.Conn
	login := func(n int) (*wire.Conn, error) {
		wc, err := c.Login(n, "eve", "Magellan101")
		if err == nil {
			eve[n] = append(eve[n], wc)
			t.Cleanup(func() { wc.Close() })
		}
		return wc, err
	}

	// Uploads: sixteen, each of one small chunk (eight of them in memory,
	// the rest on disk); bytes: three 1 MiB chunks more.
	small, big := randBytes(t, wire.MaxInlineChunk), randBytes(t, 1<<20)
	seg := core.NewVersion()
	full := store.Staged{Uploads: 16, Bytes: 16*wire.MaxInlineChunk + 3<<20, Memory: budget.Memory}
	for n := 0; n < core.NumNodes; n++ {
		wc, err := login(n)
		if err != nil {
			t.Fatal(err)
		}
		var ups []string
		for i := 0; i < budget.Uploads; i++ {
			ups = append(ups, fmt.Sprintf("%032x", i+1))
			if err := testcluster.PutChunk(wc, wire.PutChunkReq{Upload: ups[i], Segment: seg, Chunk: 0, Inline: true}, small); err != nil {
				t.Fatalf("%s: eve's small chunk: %v", core.NodeName(n), err)
			}
		}
		for ch := 1; ch < core.NumChunks; ch++ {
			if err := testcluster.PutChunk(wc, wire.PutChunkReq{Upload: ups[0], Segment: seg, Chunk: ch}, big); err != nil {
				t.Fatalf("%s: eve's large chunk: %v", core.NodeName(n), err)
			}
		}
		err = testcluster.PutChunk(wc, wire.PutChunkReq{Upload: ups[1], Segment: seg, Chunk: 1}, big)
		if re := (*wire.RemoteError)(nil); !errors.As(err, &re) || re.Status != wire.StatusBusy || !strings.Contains(re.Message, "would pass the 4.0 MiB one user may have") {
			t.Fatalf("%s: eve's chunk over her bytes: %v, want busy naming the limit", core.NodeName(n), err)
		}
		if got := c.Server(n).Staged(); got != full {
			t.Fatalf("%s holds %+v for uploads, want eve's %+v", core.NodeName(n), got, full)
		}
	}

	// Eve's own put through the client fails as busy, saying why.
	evil := c.Client(t, "eve", "Magellan101")
	if _, err := put(t, evil, "more", randBytes(t, 1000)); !errors.Is(err, core.ErrBusy) || !strings.Contains(err.Error(), "uploads are waiting for their commit") {
		t.Errorf("eve's put with her uploads full: %v, want ErrBusy", err)
	}
	evil.Close()

	// Connections: Eve's ninth on a node is refused as busy.
	for n := 0; n < core.NumNodes; n++ {
		deadline := time.Now().Add(10 * time.Second)
		for len(eve[n]) < userConns {
			// The client's connections just closed may not be uncounted
			// yet: retry for a while.
			if _, err := login(n); err != nil && time.Now().After(deadline) {
				t.Fatalf("%s: eve's connection %d of %d: %v", core.NodeName(n), len(eve[n])+1, userConns, err)
			} else if err != nil {
				time.Sleep(20 * time.Millisecond)
			}
		}
		_, err := c.Login(n, "eve", "Magellan101")
		if re := (*wire.RemoteError)(nil); !errors.As(err, &re) || re.Status != wire.StatusBusy || !strings.Contains(re.Message, "connections open") {
			t.Fatalf("%s: eve's connection over her limit: %v, want busy", core.NodeName(n), err)
		}
	}

	// Alice is not touched.
	alice := c.Client(t, "alice", testcluster.Users["alice"])
	for _, size := range []int{20 << 10, 3 << 20} { // inline chunks, then chunk files
		data := randBytes(t, size)
		res := mustPut(t, alice, "f", data)
		if res.State != client.StateOK {
			t.Errorf("alice's put of %d bytes: %v, want both copies of every chunk (failed: %v)", size, res.State, res.Failed)
		}
		mustGet(t, alice, "f", data)
	}
	for n := 0; n < core.NumNodes; n++ {
		if got := c.Server(n).Staged(); got != full {
			t.Errorf("%s holds %+v for uploads after alice's puts, want eve's %+v", core.NodeName(n), got, full)
		}
	}

	// Eve leaves: her uploads go with her last connection.
	for n := range eve {
		for _, wc := range eve[n] {
			wc.Close()
		}
	}
	for n := 0; n < core.NumNodes; n++ {
		deadline := time.Now().Add(10 * time.Second)
		for c.Server(n).Staged() != (store.Staged{}) {
			if time.Now().After(deadline) {
				t.Fatalf("%s still holds %+v for uploads 10 s after eve's connections closed", core.NodeName(n), c.Server(n).Staged())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
