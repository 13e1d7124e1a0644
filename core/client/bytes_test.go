package client_test

import (
	"testing"

	"dfs/internal/testcluster"
)

// TestGetSendsEachChunkOnce counts what each node sends during a GET with
// all nodes up: each chunk crosses the wire once, so the nodes together send
// the file's size plus framing, not twice that.
func TestGetSendsEachChunkOnce(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	const size = 8 << 20
	data := randBytes(t, size)
	mustPut(t, cl, "big", data)

	pc, proxies := tappedClient(t, c)
	mustGet(t, pc, "big", data)
	pc.Close()
	for _, p := range proxies {
		p.ln.Close()
	}
	var total int64
	for n, p := range proxies {
		p.wg.Wait()
		got := p.sent.Load()
		total += got
		// Each node sends one chunk (a quarter) plus TLS and framing.
		if got < size/4 || got > size/4+size/50 {
			t.Errorf("DFS%d sent %d bytes, want about %d (one chunk)", n+1, got, size/4)
		}
	}
	if total > size+size/25 {
		t.Errorf("nodes sent %d bytes for a %d-byte file", total, size)
	}
}
