package testcluster

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"

	"dfs/conf"
	"dfs/core"
	"dfs/core/wire"
	"dfs/node"
)

// inProcess runs the nodes as node.Servers in the test process, each
// behind a gate that Freeze closes.
type inProcess struct {
	c *Cluster

	mu      sync.Mutex // guards the fields below
	servers [core.NumNodes]*node.Server
	gates   [core.NumNodes]*gate
}

func newInProcess(c *Cluster) backend { return &inProcess{c: c} }

func (p *inProcess) addUser(path, user, password string) error {
	return conf.AddUser(path, user, password)
}

func (p *inProcess) setQuota(user, quota string) error {
	q, err := conf.ParseQuota(quota)
	if err != nil {
		return err
	}
	return conf.SetQuota(p.c.confPath, user, q)
}

func (p *inProcess) start(n int, addr string) (string, error) {
	c := p.c
	dir := c.Dir(n)
	var tc *tls.Config
	if !c.plain {
		cert, err := wire.LoadOrCreateCert(dir)
		if err != nil {
			return "", err
		}
		tc = wire.ServerTLS(cert)
	}
	raw, err := listen(addr)
	if err != nil {
		return "", fmt.Errorf("listen: %w", err)
	}
	g := newGate()
	ln := wire.NewListener(gateListener{Listener: raw, g: g}, tc)
	cfg := node.Config{
		Dir: dir, Name: core.NodeName(n), Users: c.users, TLS: tc, Grace: c.grace,
		Log: slog.New(slog.NewTextHandler(testWriter{c.t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if c.configure != nil {
		c.configure(&cfg)
	}
	srv, err := node.New(cfg)
	if err != nil {
		ln.Close()
		return "", err
	}
	p.mu.Lock()
	p.servers[n] = srv
	p.gates[n] = g
	p.mu.Unlock()
	go srv.Serve(ln)
	return ln.Addr().String(), nil
}

// testWriter sends node logs to the test log (visible with -v or on failure).
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	defer func() { recover() }() // a log line after the test ended
	w.t.Log(string(p))
	return len(p), nil
}

// stop closes node n's server: there is no killing part of a process.
func (p *inProcess) stop(n int, kill bool) {
	p.mu.Lock()
	srv := p.servers[n]
	p.servers[n] = nil
	g := p.gates[n]
	p.gates[n] = nil
	p.mu.Unlock()
	if g != nil {
		g.set(false) // a frozen node's connections must see their close
	}
	if srv != nil {
		srv.Close()
	}
}

func (p *inProcess) freeze(n int, frozen bool) error {
	p.mu.Lock()
	g := p.gates[n]
	p.mu.Unlock()
	if g == nil {
		return errors.New("not running")
	}
	g.set(frozen)
	return nil
}

// Server returns node n's running server (nil when stopped). In-process
// nodes only.
func (c *Cluster) Server(n int) *node.Server {
	c.t.Helper()
	p, ok := c.be.(*inProcess)
	if !ok {
		c.t.Fatalf("%s runs in a process of its own: no *node.Server", core.NodeName(n))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.servers[n]
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
