package client

import (
	"bytes"
	"encoding/json"
	"errors"
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
