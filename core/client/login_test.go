package client

import (
	"errors"
	"io"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// TestLoginRefusalDelayed: a node holds back its refusal of a wrong
// password by up to wire.MaxLoginDelay, well past Config.Reply; the client
// waits for it, reports a wrong password (not a node that stopped
// answering), and does not skip the node, though another answered meanwhile.
func TestLoginRefusalDelayed(t *testing.T) {
	t.Parallel()
	var nodes [core.NumNodes]*fakeNode
	for n := range nodes {
		nodes[n] = newFakeNode(t)
		nodes[n].handlers[wire.TypeInfo] = func(conn *wire.Conn, body []byte) error {
			return conn.Send(wire.TypeInfo, wire.StatusOK, wire.InfoResp{Node: core.NodeName(n)})
		}
	}
	f := nodes[0]
	f.handlers[wire.TypeAuth] = func(conn *wire.Conn, body []byte) error {
		select {
		case <-time.After(wire.MaxLoginDelay):
		case <-f.quit:
		}
		_ = conn.SendError(wire.TypeAuth, wire.StatusAuthFailed, "Invalid Username/Password. Please try again.")
		return io.EOF // the node closes after a refusal
	}
	c := newFakeClient(t, Config{Reply: 500 * time.Millisecond}, nodes)
	ctx := testCtx(t)
	go func() {
		time.Sleep(100 * time.Millisecond)
		if _, err := c.nodeInfo(ctx, 1); err != nil {
			t.Errorf("DFS2: %v", err)
		}
	}()
	start := time.Now()
	_, err := c.nodeInfo(ctx, 0)
	if !errors.Is(err, core.ErrAuth) {
		t.Fatalf("after %v: %v, want the wrong password", time.Since(start), err)
	}
	if c.nodes[0].isDown() {
		t.Error("DFS1 is skipped for refusing a password slowly")
	}
}
