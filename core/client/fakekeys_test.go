package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"dfs/core"
	"dfs/core/crypt"
	"dfs/core/wire"
)

// fakeKeys is a fake node's copy of the user's wrapped master key, served
// as a node does (KEY_GET, KEY_PUT as a compare-and-swap), so that a
// client of fake nodes has a keyring.
type fakeKeys struct {
	mu  sync.Mutex
	key []byte
}

func (k *fakeKeys) get() []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.key
}

func (k *fakeKeys) handler(t wire.Type) fakeHandler {
	switch t {
	case wire.TypeKeyGet:
		return func(conn *wire.Conn, body []byte) error {
			return conn.Send(t, wire.StatusOK, wire.KeyResp{Key: k.get()})
		}
	case wire.TypeKeyPut:
		return func(conn *wire.Conn, body []byte) error {
			var req wire.KeyPutReq
			if err := json.Unmarshal(body, &req); err != nil {
				return err
			}
			k.mu.Lock()
			if bytes.Equal(k.key, req.Expect) {
				k.key = req.Key
			}
			cur := k.key
			k.mu.Unlock()
			return conn.Send(t, wire.StatusOK, wire.KeyResp{Key: cur})
		}
	}
	return nil
}

// TestPasswdChangesBack: when a node refuses PASSWD, the nodes already
// changed get the old verifier and wrap back, on the connections the
// change used.
func TestPasswdChangesBack(t *testing.T) {
	t.Parallel()
	var nodes [core.NumNodes]*fakeNode
	var mu sync.Mutex
	got := map[int][]wire.PasswdReq{}
	for n := range nodes {
		nodes[n] = newFakeNode(t)
		nodes[n].handlers[wire.TypePasswd] = func(conn *wire.Conn, body []byte) error {
			var req wire.PasswdReq
			if err := json.Unmarshal(body, &req); err != nil {
				return err
			}
			mu.Lock()
			got[n] = append(got[n], req)
			mu.Unlock()
			if n == 2 {
				return conn.SendError(wire.TypePasswd, wire.StatusStale, "the user's key on this node is not the one the client read")
			}
			return conn.Send(wire.TypePasswd, wire.StatusOK, wire.Empty{})
		}
	}
	c := newFakeClient(t, Config{Password: "Crimson33"}, nodes)
	ctx := testCtx(t)
	mk, err := c.masterKey(ctx) // the first login: a key on all four
	if err != nil {
		t.Fatal(err)
	}
	old := nodes[0].keys.get()
	err = c.Passwd(ctx, "Crimson33", "New1")
	if err == nil || !strings.Contains(err.Error(), "password not changed") || !errors.Is(err, core.ErrStale) {
		t.Fatalf("passwd with DFS3 refusing: %v", err)
	}
	oldLogin := crypt.LoginFor("alice", "Crimson33")
	for n := range 2 {
		reqs := got[n]
		if len(reqs) != 2 || !bytes.Equal(reqs[0].Expect, old) || !bytes.Equal(reqs[1].Key, old) ||
			!bytes.Equal(reqs[1].Expect, reqs[0].Key) || reqs[1].Login != oldLogin {
			t.Errorf("DFS%d got %+v, want the change and its undoing", n+1, reqs)
		}
	}
	if len(got[3]) != 0 {
		t.Errorf("DFS4 got %d PASSWD after DFS3 refused", len(got[3]))
	}
	if back, err := crypt.DeriveRoot("alice", "New1").Unwrap("alice", got[0][0].Key); err != nil || back.ID() != mk.ID() {
		t.Errorf("the new wrap opens %v, %v; want the same master key", back, err)
	}
}

// TestKeyringFirstLoginRaced: a first login whose new key reaches fewer
// than three nodes does not use it. Here another first login's key lands
// on DFS2 and DFS3 between this one's read and its KEY_PUT, and DFS1 is
// out of reach: the client takes the other key, held by more nodes, and
// gives it to DFS4 in place of its own. And a new key that only two
// nodes took, the others not answering, fails with a retry error.
func TestKeyringFirstLoginRaced(t *testing.T) {
	t.Parallel()
	other := crypt.NewMasterKey()
	wOther := crypt.DeriveRoot("alice", "Crimson33").Wrap("alice", other)
	var nodes [core.NumNodes]*fakeNode
	for n := range nodes {
		nodes[n] = newFakeNode(t)
	}
	for _, f := range nodes[1:3] {
		first := true
		f.handlers[wire.TypeKeyGet] = func(conn *wire.Conn, body []byte) error {
			f.keys.mu.Lock()
			k := f.keys.key
			if first {
				first, k, f.keys.key = false, nil, wOther
			}
			f.keys.mu.Unlock()
			return conn.Send(wire.TypeKeyGet, wire.StatusOK, wire.KeyResp{Key: k})
		}
	}
	c := newFakeClient(t, Config{Password: "Crimson33"}, nodes)
	c.nodes[0].connect = func(context.Context) (net.Conn, error) { return nil, errors.New("unreachable") }
	mk, err := c.masterKey(testCtx(t))
	if err != nil || mk.ID() != other.ID() {
		t.Fatalf("first login that raced: %v, %v; want the other key %s", mk, err, other.ID())
	}
	if got := crypt.WrappedID(nodes[3].keys.get()); got != other.ID() {
		t.Errorf("DFS4 holds %s, want the other key %s", got, other.ID())
	}

	for n := range nodes {
		nodes[n] = newFakeNode(t)
	}
	nodes[3].handlers[wire.TypeKeyPut] = func(*wire.Conn, []byte) error { return io.EOF }
	c = newFakeClient(t, Config{Password: "Crimson33"}, nodes)
	c.nodes[0].connect = func(context.Context) (net.Conn, error) { return nil, errors.New("unreachable") }
	if mk, err := c.masterKey(testCtx(t)); !errors.Is(err, core.ErrUnavailable) || !strings.Contains(err.Error(), "try again") {
		t.Fatalf("first login whose key two nodes took: %v, %v; want ErrUnavailable", mk, err)
	}
}
