// Package testcluster runs four real chunk nodes in the test process, on
// loopback ports with TLS, for cluster and mount tests.
package testcluster

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"dfs/conf"
	"dfs/core"
	"dfs/core/client"
	"dfs/core/wire"
	"dfs/node"
)

// Users are the accounts every test cluster has (the seed's demo users).
var Users = map[string]string{"alice": "Crimson33", "bob": "Velvet77"}

// Cluster is four nodes, DFS1..DFS4.
type Cluster struct {
	t        testing.TB
	root     string
	confPath string
	users    node.Accounts
	plain    bool
	grace    time.Duration // node.Config.Grace; 0 for the default

	mu      sync.Mutex // guards the fields below
	addrs   [core.NumNodes]string
	pins    [core.NumNodes]string
	servers [core.NumNodes]*node.Server
	hangs   [core.NumNodes]net.Listener
	held    [core.NumNodes][]net.Conn
	gates   [core.NumNodes]*gate
}

// Option changes how a cluster is started.
type Option func(*Cluster)

// Plaintext runs the nodes without TLS.
func Plaintext() Option { return func(c *Cluster) { c.plain = true } }

// Grace sets how long the nodes keep replaced versions readable (see
// node.Config.Grace), so a test can watch them go.
func Grace(d time.Duration) Option { return func(c *Cluster) { c.grace = d } }

// Start runs four nodes and stops them when the test ends.
func Start(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	c := &Cluster{t: t, root: t.TempDir()}
	for _, o := range opts {
		o(c)
	}
	c.confPath = filepath.Join(c.root, "dfs.conf")
	for _, name := range []string{"alice", "bob"} {
		if err := conf.AddUser(c.confPath, name, Users[name]); err != nil {
			t.Fatal(err)
		}
	}
	db, err := conf.OpenUserDB(c.confPath)
	if err != nil {
		t.Fatal(err)
	}
	c.users = db
	for n := 0; n < core.NumNodes; n++ {
		c.start(n, "127.0.0.1:0")
	}
	t.Cleanup(c.stopAll)
	return c
}

func (c *Cluster) start(n int, addr string) {
	c.t.Helper()
	dir := c.Dir(n)
	var tc *tls.Config
	if !c.plain {
		cert, err := wire.LoadOrCreateCert(dir)
		if err != nil {
			c.t.Fatal(err)
		}
		fp, err := wire.CertFingerprint(cert)
		if err != nil {
			c.t.Fatal(err)
		}
		c.pins[n] = fp
		tc = wire.ServerTLS(cert)
	}
	var raw net.Listener
	var err error
	for try := 0; try < 50; try++ { // the old listener's port may take a moment to free
		if raw, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		c.t.Fatalf("DFS%d: listen: %v", n+1, err)
	}
	g := newGate()
	ln := wire.NewListener(gateListener{Listener: raw, g: g}, tc)
	srv, err := node.New(node.Config{
		Dir: dir, Name: core.NodeName(n), Users: c.users, TLS: tc, Grace: c.grace,
		Log: slog.New(slog.NewTextHandler(testWriter{c.t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		ln.Close()
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.addrs[n] = ln.Addr().String()
	c.servers[n] = srv
	c.gates[n] = g
	c.mu.Unlock()
	go srv.Serve(ln)
}

// testWriter sends node logs to the test log (visible with -v or on failure).
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	defer func() { recover() }() // a log line after the test ended
	w.t.Log(string(p))
	return len(p), nil
}

// Dir returns node n's data folder.
func (c *Cluster) Dir(n int) string { return filepath.Join(c.root, core.NodeName(n)) }

// Addr returns node n's address.
func (c *Cluster) Addr(n int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addrs[n]
}

// ConfPath returns the cluster's dfs.conf.
func (c *Cluster) ConfPath() string { return c.confPath }

// Nodes returns the node addresses with their pins, as dfc.conf has them.
func (c *Cluster) Nodes() []client.NodeAddr {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]client.NodeAddr, core.NumNodes)
	for n := range out {
		out[n] = client.NodeAddr{Name: core.NodeName(n), Addr: c.addrs[n], Pin: c.pins[n]}
	}
	return out
}

// Config returns a client configuration for user.
func (c *Cluster) Config(user, password string) client.Config {
	return client.Config{Nodes: c.Nodes(), User: user, Password: password, Plaintext: c.plain}
}

// Client returns a client for user, closed when the test ends.
func (c *Cluster) Client(t testing.TB, user, password string) *client.Client {
	t.Helper()
	cl, err := client.New(c.Config(user, password))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// WriteClientConf writes a dfc.conf for user at path, with pins.
func (c *Cluster) WriteClientConf(t testing.TB, path, user, password string) {
	t.Helper()
	s := ""
	for _, a := range c.Nodes() {
		s += fmt.Sprintf("Server %s %s %s\n", a.Name, a.Addr, a.Pin)
	}
	s += fmt.Sprintf("Username: %s\nPassword: %s\n", user, password)
	if c.plain {
		s += "Transport: plaintext-insecure\n"
	}
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Stop stops node n (its connections drop, its port refuses).
func (c *Cluster) Stop(n int) {
	c.mu.Lock()
	srv := c.servers[n]
	c.servers[n] = nil
	hang := c.hangs[n]
	c.hangs[n] = nil
	held := c.held[n]
	c.held[n] = nil
	g := c.gates[n]
	c.gates[n] = nil
	c.mu.Unlock()
	if g != nil {
		g.set(false) // a frozen node's connections must see their close
	}
	if srv != nil {
		srv.Close()
	}
	if hang != nil {
		hang.Close()
	}
	for _, hc := range held {
		hc.Close()
	}
}

// Restart starts node n again on its port with its data.
func (c *Cluster) Restart(n int) {
	c.Stop(n)
	c.start(n, c.Addr(n))
}

// Hang replaces node n with a listener that accepts connections and never
// answers, as a node that is stuck would.
func (c *Cluster) Hang(n int) {
	c.Stop(n)
	var ln net.Listener
	var err error
	for try := 0; try < 50; try++ {
		if ln, err = net.Listen("tcp", c.Addr(n)); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		c.t.Fatalf("DFS%d: hang listen: %v", n+1, err)
	}
	c.mu.Lock()
	c.hangs[n] = ln
	c.mu.Unlock()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.held[n] = append(c.held[n], conn)
			c.mu.Unlock()
		}
	}()
}

// Wipe stops node n, deletes its data (keeping its key, as a replaced disk
// with the node's identity restored would) and starts it empty.
func (c *Cluster) Wipe(n int) {
	c.Stop(n)
	dir := c.Dir(n)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != wire.KeyFile && e.Name() != wire.CertFile {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
	c.start(n, c.Addr(n))
}

// Server returns node n's running server (nil when stopped).
func (c *Cluster) Server(n int) *node.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.servers[n]
}

func (c *Cluster) stopAll() {
	for n := 0; n < core.NumNodes; n++ {
		c.Stop(n)
	}
}

// Freeze makes node n stop in its tracks, as SIGSTOP would: its open
// connections stay open and take what is sent to them, but nothing it
// reads reaches the node and nothing it writes leaves; new connections are
// accepted (by the kernel) and never answered. Thaw undoes it.
func (c *Cluster) Freeze(n int) { c.gate(n).set(true) }

// Thaw lets a frozen node go on where it stopped.
func (c *Cluster) Thaw(n int) { c.gate(n).set(false) }

func (c *Cluster) gate(n int) *gate {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gates[n] == nil {
		c.t.Fatalf("DFS%d is not running", n+1)
	}
	return c.gates[n]
}

// gate holds a node's connections while it is frozen.
type gate struct {
	mu     sync.Mutex
	cond   *sync.Cond
	frozen bool // guarded by mu
}

func newGate() *gate {
	g := &gate{}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *gate) set(frozen bool) {
	g.mu.Lock()
	g.frozen = frozen
	g.mu.Unlock()
	g.cond.Broadcast()
}

func (g *gate) wait() {
	g.mu.Lock()
	for g.frozen {
		g.cond.Wait()
	}
	g.mu.Unlock()
}

type gateListener struct {
	net.Listener
	g *gate
}

func (l gateListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return gateConn{Conn: nc, g: l.g}, nil
}

// gateConn passes nothing in either direction while its gate is frozen:
// data read while frozen is held until it thaws.
type gateConn struct {
	net.Conn
	g *gate
}

func (c gateConn) Read(p []byte) (int, error) {
	c.g.wait()
	n, err := c.Conn.Read(p)
	c.g.wait()
	return n, err
}

func (c gateConn) Write(p []byte) (int, error) {
	c.g.wait()
	return c.Conn.Write(p)
}
