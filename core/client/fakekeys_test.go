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
	"sync/atomic"
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

// passwdNode makes f answer PASSWD as a node does: the key it is sent
// replaces the one expected (a retry with it in place already succeeds
// again), then the login is set; else StatusStale and nothing changes.
// A change for which lost, if not nil, reports true gets no reply: the
// connection closes.
func passwdNode(f *fakeNode, login *atomic.Value, lost func() bool) {
	f.handlers[wire.TypePasswd] = func(conn *wire.Conn, body []byte) error {
		var req wire.PasswdReq
		if err := json.Unmarshal(body, &req); err != nil {
			return err
		}
		f.keys.mu.Lock()
		ok := bytes.Equal(f.keys.key, req.Expect) || bytes.Equal(f.keys.key, req.Key)
		if ok {
			f.keys.key = req.Key
			login.Store(req.Login)
		}
		f.keys.mu.Unlock()
		if !ok {
			return conn.SendError(wire.TypePasswd, wire.StatusStale, "the user's key on this node is not the one the client read: password not changed")
		}
		if lost != nil && lost() {
			return io.EOF
		}
		return conn.Send(wire.TypePasswd, wire.StatusOK, wire.Empty{})
	}
}

// TestPasswdLostReply: a node that makes the change but whose reply is
// lost is changed back too, on a new connection, and the user is told
// nothing changed. When it cannot be reached to change it back, the
// error names it as holding the new password maybe and says to run dfc
// passwd again; that rerun, the node holding the new password already,
// finishes the change.
func TestPasswdLostReply(t *testing.T) {
	t.Parallel()
	var nodes [core.NumNodes]*fakeNode
	var logins [core.NumNodes]atomic.Value
	var lose, down atomic.Bool // DFS3 closes the connection after a change; DFS3 is out of reach
	for n := range nodes {
		nodes[n] = newFakeNode(t)
		var lost func() bool
		if n == 2 {
			lost = func() bool { return lose.Swap(false) }
		}
		passwdNode(nodes[n], &logins[n], lost)
	}
	h := nodes[2].handlers[wire.TypePasswd]
	c := newFakeClient(t, Config{Password: "Crimson33"}, nodes)
	connect2 := c.nodes[2].connect
	c.nodes[2].connect = func(ctx context.Context) (net.Conn, error) {
		if down.Load() {
			return nil, errors.New("unreachable")
		}
		return connect2(ctx)
	}
	ctx := testCtx(t)
	mk, err := c.masterKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old := nodes[0].keys.get()
	oldLogin := crypt.LoginFor("alice", "Crimson33")
	newRoot := crypt.DeriveRoot("alice", "New12345")

	lose.Store(true)
	err = c.Passwd(ctx, "Crimson33", "New12345")
	if err == nil || !strings.HasPrefix(err.Error(), "password not changed") {
		t.Fatalf("passwd with DFS3's reply lost: %v", err)
	}
	for n := range 3 {
		if k := nodes[n].keys.get(); !bytes.Equal(k, old) || logins[n].Load() != oldLogin {
			t.Errorf("%s holds key %s and login %v after the change was undone; want the old ones", core.NodeName(n), crypt.WrappedID(k), logins[n].Load())
		}
	}

	lose.Store(true)
	nodes[2].handlers[wire.TypePasswd] = func(conn *wire.Conn, body []byte) error {
		err := h(conn, body)
		down.Store(true)
		return err
	}
	err = c.Passwd(ctx, "Crimson33", "New12345")
	if err == nil || !strings.Contains(err.Error(), "changed on some nodes only") ||
		!strings.Contains(err.Error(), c.nodes[2].label+" may hold the new password") || !strings.Contains(err.Error(), "run dfc passwd again") {
		t.Fatalf("passwd with DFS3 gone after the change: %v", err)
	}
	if got, err := newRoot.Unwrap("alice", nodes[2].keys.get()); err != nil || got.ID() != mk.ID() {
		t.Fatalf("DFS3 holds %v, %v; want the new wrap", got, err)
	}
	for n := range 2 {
		if k := nodes[n].keys.get(); !bytes.Equal(k, old) {
			t.Errorf("%s holds key %s after the change was undone", core.NodeName(n), crypt.WrappedID(k))
		}
	}

	down.Store(false)
	nodes[2].handlers[wire.TypePasswd] = h
	if err := c.Passwd(ctx, "Crimson33", "New12345"); err != nil {
		t.Fatalf("the rerun: %v", err)
	}
	for n := range nodes {
		if got, err := newRoot.Unwrap("alice", nodes[n].keys.get()); err != nil || got.ID() != mk.ID() || logins[n].Load() != newRoot.Login() {
			t.Errorf("%s after the rerun: key %v, %v, login %v; want the new ones", core.NodeName(n), got, err, logins[n].Load())
		}
	}
}
