package node

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"dfs/conf"
	"dfs/core/crypt"
	"dfs/core/wire"
)

// startTLSNode runs a node over TLS, where each connection has its own
// login binding, and returns it and a way to dial it.
func startTLSNode(t *testing.T, users Accounts) (n *testNode, dialTLS func() *tclient) {
	t.Helper()
	cert, err := wire.LoadOrCreateCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fp, _ := wire.CertFingerprint(cert)
	dir := t.TempDir()
	s, err := New(Config{Dir: dir, Name: "DFS1", Users: users, TLS: wire.ServerTLS(cert), AuthTimeout: 5 * time.Second, loginDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := wire.Listen("127.0.0.1:0", wire.ServerTLS(cert))
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	n = &testNode{s: s, addr: ln.Addr().String(), dir: dir}
	return n, func() *tclient {
		nc, err := wire.Dial(t.Context(), n.addr, wire.ClientTLS("DFS1", n.addr, fp))
		if err != nil {
			t.Fatal(err)
		}
		_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
		t.Cleanup(func() { nc.Close() })
		return &tclient{t: t, nc: nc, c: wire.NewConn(nc)}
	}
}

// TestAuthProof: a login carries a proof of the password bound to its TLS
// connection. The right one logs in; a wrong password's, an unknown
// user's and a proof made for another connection (what a node that
// received it would replay) are refused alike; a dfs.conf line from before
// the verifiers is refused with what to do.
func TestAuthProof(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dfs.conf")
	if err := conf.AddUser(path, "alice", "Crimson33"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	old := "Username: carol\nPassword: $argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
	os.WriteFile(path, append(data, old...), 0o600)
	users, err := conf.OpenUserDB(path)
	if err != nil {
		t.Fatal(err)
	}
	_, dialTLS := startTLSNode(t, users)

	first := dialTLS()
	if err := first.auth("alice", "Crimson33"); err != nil {
		t.Fatal(err)
	}
	second := dialTLS()
	if bytes.Equal(wire.LoginBinding(first.nc), wire.LoginBinding(second.nc)) {
		t.Fatal("two TLS connections share a binding")
	}
	replayed := prove(first.nc, "alice", "Crimson33")
	err = second.call(wire.TypeAuth, wire.AuthReq{User: "alice", Proof: replayed}, &wire.AuthResp{})
	wantStatus(t, "a proof from another connection", err, wire.StatusAuthFailed)

	var msgs []string
	for _, u := range []string{"alice", "nobody"} {
		err := dialTLS().auth(u, "wrong")
		wantStatus(t, u+" with a wrong password", err, wire.StatusAuthFailed)
		msgs = append(msgs, err.(*wire.RemoteError).Message)
	}
	if msgs[0] != msgs[1] || msgs[0] != authFailedMsg {
		t.Errorf("refusals tell users apart: %q", msgs)
	}

	err = dialTLS().auth("carol", "anything")
	wantStatus(t, "an argon2id line", err, wire.StatusAuthFailed)
	if msg := err.(*wire.RemoteError).Message; msg != "user carol's password entry predates end-to-end keys: set it again with dfsnode user passwd" {
		t.Errorf("old line refused with %q", msg)
	}
}

func (c *tclient) keyGet() []byte {
	c.t.Helper()
	var r wire.KeyResp
	if err := c.call(wire.TypeKeyGet, wire.KeyGetReq{}, &r); err != nil {
		c.t.Fatal(err)
	}
	return r.Key
}

func (c *tclient) keyPut(key, expect []byte) []byte {
	c.t.Helper()
	var r wire.KeyResp
	if err := c.call(wire.TypeKeyPut, wire.KeyPutReq{Key: key, Expect: expect}, &r); err != nil {
		c.t.Fatal(err)
	}
	return r.Key
}

// TestKeyPut: the user's key changes only from the one the client
// expects, the reply always says what the node holds, and it is each
// user's own.
func TestKeyPut(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	root := crypt.DeriveRoot("alice", "Crimson33")
	k1, k2 := root.Wrap("alice", crypt.NewMasterKey()), root.Wrap("alice", crypt.NewMasterKey())
	if got := c.keyGet(); got != nil {
		t.Fatalf("a key before any: %x", got)
	}
	if got := c.keyPut(k1, k2); got != nil {
		t.Errorf("put expecting a key when there is none: node holds %x", got)
	}
	if got := c.keyPut(k1, nil); !bytes.Equal(got, k1) {
		t.Fatalf("first put: node holds %x", got)
	}
	if got := c.keyPut(k2, nil); !bytes.Equal(got, k1) {
		t.Errorf("a second first put replaced the key: %x", got)
	}
	if got := c.keyPut(k2, k1); !bytes.Equal(got, k2) {
		t.Errorf("put expecting the key: node holds %x", got)
	}
	if got := login(t, n.addr, "alice", "Crimson33").keyGet(); !bytes.Equal(got, k2) {
		t.Errorf("another connection reads %x", got)
	}
	if b, err := os.ReadFile(filepath.Join(n.dir, "users/alice/key")); err != nil || !bytes.Equal(b, k2) {
		t.Errorf("key file: %x, %v", b, err)
	}
	if got := login(t, n.addr, "bob", "Velvet77").keyGet(); got != nil {
		t.Errorf("bob reads alice's key: %x", got)
	}
	err := c.call(wire.TypeKeyPut, wire.KeyPutReq{Key: []byte("short")}, &wire.KeyResp{})
	wantStatus(t, "a put of no wrapped key", err, wire.StatusBadRequest)
}

// TestPasswd: PASSWD stores the key wrapped by the new password and the
// new verifier, and changes nothing when the node's key is not the one
// the client read.
func TestPasswd(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	oldRoot, newRoot := crypt.DeriveRoot("alice", "Crimson33"), crypt.DeriveRoot("alice", "New1")
	mk := crypt.NewMasterKey()
	k1 := c.keyPut(oldRoot.Wrap("alice", mk), nil)
	k2 := newRoot.Wrap("alice", mk)

	stale := oldRoot.Wrap("alice", crypt.NewMasterKey())
	err := c.call(wire.TypePasswd, wire.PasswdReq{Login: newRoot.Login(), Key: k2, Expect: stale}, nil)
	wantStatus(t, "passwd expecting another key", err, wire.StatusStale)
	err = c.call(wire.TypePasswd, wire.PasswdReq{Login: "New1", Key: k2, Expect: k1}, nil)
	wantStatus(t, "passwd with a password for a verifier", err, wire.StatusBadRequest)
	login(t, n.addr, "alice", "Crimson33") // nothing changed

	if err := c.call(wire.TypePasswd, wire.PasswdReq{Login: newRoot.Login(), Key: k2, Expect: k1}, nil); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "the old password", dial(t, n.addr).auth("alice", "Crimson33"), wire.StatusAuthFailed)
	got := login(t, n.addr, "alice", "New1").keyGet()
	if back, err := newRoot.Unwrap("alice", got); err != nil || back.ID() != mk.ID() {
		t.Errorf("the new password opens %v, %v; want the same master key", back, err)
	}
	// A retry of the same change (its reply lost) succeeds again.
	if err := c.call(wire.TypePasswd, wire.PasswdReq{Login: newRoot.Login(), Key: k2, Expect: k1}, nil); err != nil {
		t.Errorf("retried passwd: %v", err)
	}
}

// TestPlaintextBindingReplays documents the insecure transport: every
// plaintext connection has the same binding, so a proof seen once logs in
// again (debugging only).
func TestPlaintextBindingReplays(t *testing.T) {
	n := startNode(t, nil)
	a, b := dial(t, n.addr), dial(t, n.addr)
	proof := prove(a.nc, "alice", "Crimson33")
	if err := b.call(wire.TypeAuth, wire.AuthReq{User: "alice", Proof: proof}, &wire.AuthResp{}); err != nil {
		t.Errorf("plaintext replay: %v", err)
	}
}
