package trust_test

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/crypt"
	"dfs/core/wire"
)

// fakeNode is a TLS listener with a key of its own that speaks enough of
// the protocol to record what clients send it: it accepts every login and
// refuses every other request.
type fakeNode struct {
	ln net.Listener
	wg sync.WaitGroup

	mu    sync.Mutex   // guards the fields below
	sent  bytes.Buffer // every byte clients sent, inside TLS
	auths []auth       // the AUTH requests
}

// auth is an AUTH request a fake node received, and the binding of its
// connection (wire.LoginBinding), which its proof is made for.
type auth struct {
	body, binding []byte
}

func startFakeNode(t *testing.T) *fakeNode {
	t.Helper()
	cert, err := wire.LoadOrCreateCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeNode{ln: ln}
	t.Cleanup(f.close)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() { defer f.wg.Done(); f.serve(nc) }()
		}
	}()
	return f
}

func (f *fakeNode) close() {
	f.ln.Close()
	f.wg.Wait()
}

func (f *fakeNode) serve(nc net.Conn) {
	defer nc.Close()
	c := wire.NewConn(recorder{nc, f})
	for {
		h, body, err := c.ReadRequest()
		if err != nil {
			return
		}
		switch h.Type {
		case wire.TypeAuth:
			f.mu.Lock()
			f.auths = append(f.auths, auth{bytes.Clone(body), wire.LoginBinding(nc)})
			f.mu.Unlock()
			c.Send(wire.TypeAuth, wire.StatusOK, wire.AuthResp{Node: "DFS1", Version: "fake"})
			c.SetCaps(wire.NodeCaps)
			c.Grow()
		case wire.TypeData: // part of a request already refused
		default:
			c.SendError(h.Type, wire.StatusInternal, "fake node")
		}
	}
}

// recorder is a connection that copies what it reads into its fake node.
type recorder struct {
	net.Conn
	f *fakeNode
}

func (r recorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.f.mu.Lock()
	r.f.sent.Write(p[:n])
	r.f.mu.Unlock()
	return n, err
}

// TestFakeNode: a node with its own key in place of DFS1, which a client
// without a pin for DFS1 and without a terminal pins with a warning,
// learns nothing at login that logs in anywhere: the password is in
// nothing it receives, and what it received in AUTH, replayed to each real
// node on a connection of its own, is refused.
func TestFakeNode(t *testing.T) {
	r := newRig(t)
	data := random(100 << 10)
	r.put("known.bin", data) // the user's keys exist: the client goes on past its login
	fake := startFakeNode(t)

	conf := "Server DFS1 " + fake.ln.Addr().String() + "\n"
	for _, a := range r.Nodes()[1:] {
		conf += fmt.Sprintf("Server %s %s %s\n", a.Name, a.Addr, a.Pin)
	}
	conf += "Username: alice\nPassword: " + password + "\n"
	confPath := filepath.Join(r.dir, "fake.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	res := r.dfcWith(confPath, "", "ls")
	if !strings.Contains(res.Stderr, "first contact with DFS1") {
		t.Errorf("dfc ls met the fake DFS1 without a warning: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	r.dfcWith(confPath, "", "get", "known.bin", filepath.Join(t.TempDir(), "known.bin"))
	r.dfcWith(confPath, "", "status")
	fake.close()

	fake.mu.Lock()
	sent, auths := fake.sent.Bytes(), fake.auths
	fake.mu.Unlock()
	if len(auths) == 0 {
		t.Fatal("the fake node got no AUTH")
	}
	t.Logf("the fake node received %d bytes, %d logins", len(sent), len(auths))
	// What it got is a good login there (so what the real nodes refuse
	// below is a login, not noise)...
	var req wire.AuthReq
	if err := json.Unmarshal(auths[0].body, &req); err != nil {
		t.Fatalf("the AUTH body: %v", err)
	}
	if !crypt.VerifyLogin(crypt.LoginFor("alice", password), "alice", auths[0].binding, req.Proof) {
		t.Error("the AUTH the fake node received does not prove alice's password on its own connection")
	}
	for _, enc := range []string{password, base64.StdEncoding.EncodeToString([]byte(password))} {
		if bytes.Contains(sent, []byte(enc)) {
			t.Errorf("the fake node received the password (%q) in %d bytes", enc, len(sent))
		}
	}
	// ...and nowhere else.
	var wg sync.WaitGroup
	for n := 0; n < core.NumNodes; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st, err := replayAuth(r.Addr(n), auths[0].body); st != wire.StatusAuthFailed {
				t.Errorf("the AUTH a fake node received, replayed to %s: %v, %v; want %v", core.NodeName(n), st, err, wire.StatusAuthFailed)
			}
		}()
	}
	wg.Wait()
}

// replayAuth sends body as AUTH on a new TLS connection to addr and returns
// the status of the reply.
func replayAuth(addr string, body []byte) (wire.Status, error) {
	nc, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) // as an attacker would: no pin
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	c := wire.NewConn(nc)
	c.SetDeadline(time.Now().Add(wire.MaxLoginDelay + 20*time.Second))
	if err := c.SendBody(wire.TypeAuth, body); err != nil {
		return 0, err
	}
	_, err = c.RecvBody(wire.TypeAuth)
	var re *wire.RemoteError
	if errors.As(err, &re) {
		return re.Status, err
	}
	if err != nil {
		return 0, err
	}
	return wire.StatusOK, nil
}
