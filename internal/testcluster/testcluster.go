// Package testcluster runs four real chunk nodes, DFS1..DFS4, for tests,
// with TLS and pinned keys. One API, three back ends:
//
//   - in the test process (the default; inprocess.go), on loopback ports:
//     cluster and mount tests;
//   - as dfsnode processes on loopback ports (Processes; process.go): tests
//     of the built binaries, crashes (SIGKILL) and hung machines (SIGSTOP);
//   - as dfsnode processes each in its own network namespace (Namespaces;
//     netns.go): nodes as separate hosts, which a test can cut off silently.
//
// The binaries the process back ends run are built once per test binary
// when the package's TestMain calls Main (build.go).
package testcluster

import (
	"fmt"
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
	t          testing.TB
	root       string
	confPath   string
	users      node.Accounts
	plain      bool
	grace      time.Duration      // node.Config.Grace; 0 for the default
	configure  func(*node.Config) // changes in-process nodes' configuration; nil for none
	newBackend func(c *Cluster) backend
	be         backend

	mu    sync.Mutex // guards the fields below
	addrs [core.NumNodes]string
	pins  [core.NumNodes]string
	hangs [core.NumNodes]*hang
}

// backend runs the nodes: in the test process, as processes, or as
// processes in network namespaces. Its methods are called with the node's
// folder made and its pin known.
type backend interface {
	// addUser adds user to the dfs.conf at path.
	addUser(path, user, password string) error
	// setQuota sets user's quota (conf.Users.Quota; "none" for none) in
	// the dfs.conf every node reads.
	setQuota(user, quota string) error
	// start runs node n listening on addr, or on an address of its choice
	// when addr is "", and returns the address it listens on.
	start(n int, addr string) (string, error)
	// stop ends node n; it does nothing when n is not running. With kill
	// the node dies at once (SIGKILL) where the back end can do that.
	stop(n int, kill bool)
	// freeze stops node n in its tracks, as SIGSTOP does, or lets it go on.
	freeze(n int, frozen bool) error
}

// Option changes how a cluster is started.
type Option func(*Cluster)

// Plaintext runs the nodes without TLS.
func Plaintext() Option { return func(c *Cluster) { c.plain = true } }

// Grace sets how long the nodes keep replaced versions readable (see
// node.Config.Grace), so a test can watch them go. In-process nodes only:
// dfsnode has no flag for it.
func Grace(d time.Duration) Option { return func(c *Cluster) { c.grace = d } }

// Configure changes the configuration of the nodes before each starts
// (per-user limits small enough for a test to fill, say). In-process nodes
// only.
func Configure(f func(*node.Config)) Option { return func(c *Cluster) { c.configure = f } }

// Start runs four nodes and stops them when the test ends. Without a back
// end option they run in the test process.
func Start(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	c := &Cluster{t: t, root: t.TempDir(), newBackend: newInProcess}
	for _, o := range opts {
		o(c)
	}
	c.be = c.newBackend(c)
	c.confPath = filepath.Join(c.root, "dfs.conf")
	for _, name := range []string{"alice", "bob"} {
		if err := c.be.addUser(c.confPath, name, Users[name]); err != nil {
			t.Fatal(err)
		}
	}
	db, err := conf.OpenUserDB(c.confPath)
	if err != nil {
		t.Fatal(err)
	}
	c.users = db
	t.Cleanup(c.killAll) // before the starts: one that fails leaves the others running
	for n := 0; n < core.NumNodes; n++ {
		c.prepare(n)
		c.start(n, "")
	}
	return c
}

// prepare makes node n's folder and its key, and records its pin.
func (c *Cluster) prepare(n int) {
	c.t.Helper()
	if err := os.MkdirAll(c.Dir(n), 0o700); err != nil {
		c.t.Fatal(err)
	}
	if c.plain {
		return
	}
	cert, err := wire.LoadOrCreateCert(c.Dir(n))
	if err != nil {
		c.t.Fatal(err)
	}
	fp, err := wire.CertFingerprint(cert)
	if err != nil {
		c.t.Fatal(err)
	}
	c.pins[n] = fp
}

func (c *Cluster) start(n int, addr string) {
	c.t.Helper()
	got, err := c.be.start(n, addr)
	if err != nil {
		c.t.Fatalf("%s: %v", core.NodeName(n), err)
	}
	c.mu.Lock()
	c.addrs[n] = got
	c.mu.Unlock()
}

// Dir returns node n's data folder.
func (c *Cluster) Dir(n int) string { return filepath.Join(c.root, core.NodeName(n)) }

// Addr returns node n's address.
func (c *Cluster) Addr(n int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addrs[n]
}

// PID returns node n's process id with a process back end (Processes,
// Namespaces), so a test can watch its memory; 0 for in-process nodes and
// for a node that is not running.
func (c *Cluster) PID(n int) int {
	if p, ok := c.be.(*processes); ok {
		return p.pid(n)
	}
	return 0
}

// Log returns what node n has logged with a process back end, so a test
// can check what reached it; "" for in-process nodes.
func (c *Cluster) Log(n int) string {
	if p, ok := c.be.(*processes); ok {
		b, _ := os.ReadFile(p.logPath(n))
		return string(b)
	}
	return ""
}

// ConfPath returns the cluster's dfs.conf. In-process nodes read it;
// process nodes each read a copy made at their first start, as separate
// machines would.
func (c *Cluster) ConfPath() string { return c.confPath }

// NodeConfPath returns the dfs.conf node n reads: its own copy with a
// process back end, else the cluster's.
func (c *Cluster) NodeConfPath(n int) string {
	if p, ok := c.be.(*processes); ok {
		return p.confPath(n)
	}
	return c.confPath
}

// SetQuota sets user's quota on every node ("10M", "none"), as an operator
// would: in each node's dfs.conf, which running nodes follow.
func (c *Cluster) SetQuota(user, quota string) {
	c.t.Helper()
	if err := c.be.setQuota(user, quota); err != nil {
		c.t.Fatal(err)
	}
}

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
	return NewClient(t, c.Config(user, password))
}

// NewClient returns a client made from cfg, closed when the test ends.
func NewClient(t testing.TB, cfg client.Config) *client.Client {
	t.Helper()
	cl, err := client.New(cfg)
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

// Stop stops node n (its connections drop, its port refuses): an
// in-process node is closed, a process gets SIGTERM and shuts down as
// dfsnode does on it.
func (c *Cluster) Stop(n int) { c.end(n, false) }

// Kill stops node n at once, as a crash would: a process gets SIGKILL, so
// what it had not yet flushed to disk is lost. An in-process node cannot
// die alone; it is closed, as Stop does.
func (c *Cluster) Kill(n int) { c.end(n, true) }

func (c *Cluster) end(n int, kill bool) {
	c.unhang(n)
	c.be.stop(n, kill)
}

// Restart starts node n again on its address with its data, stopping it
// first if it runs (a node that was killed just starts).
func (c *Cluster) Restart(n int) {
	c.t.Helper()
	c.Stop(n)
	c.start(n, c.Addr(n))
}

// Wipe stops node n, deletes its data (keeping its key, as a replaced disk
// with the node's identity restored would) and starts it empty.
func (c *Cluster) Wipe(n int) {
	c.t.Helper()
	c.Stop(n)
	dir := c.Dir(n)
	entries, err := os.ReadDir(dir)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != wire.KeyFile && e.Name() != wire.CertFile {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				c.t.Fatal(err)
			}
		}
	}
	c.start(n, c.Addr(n))
}

// Reinstall stops node n, deletes its data folder, key included, and
// starts it empty with a new key, as a node reinstalled without a backup
// of node.key would be: clients holding its old pin refuse it. Nodes
// returns its new pin.
func (c *Cluster) Reinstall(n int) {
	c.t.Helper()
	c.Stop(n)
	if err := os.RemoveAll(c.Dir(n)); err != nil {
		c.t.Fatal(err)
	}
	c.prepare(n)
	c.start(n, c.Addr(n))
}

// Freeze makes node n stop in its tracks, as SIGSTOP does (and does, for a
// process): its open connections stay open and take what is sent to them,
// but nothing reaches the node and nothing it writes leaves; new
// connections are accepted by the kernel and never answered. Thaw undoes it.
func (c *Cluster) Freeze(n int) {
	c.t.Helper()
	if err := c.be.freeze(n, true); err != nil {
		c.t.Fatalf("%s: freeze: %v", core.NodeName(n), err)
	}
}

// Thaw lets a frozen node go on where it stopped.
func (c *Cluster) Thaw(n int) {
	c.t.Helper()
	if err := c.be.freeze(n, false); err != nil {
		c.t.Fatalf("%s: thaw: %v", core.NodeName(n), err)
	}
}

// killAll ends every node when the test ends.
func (c *Cluster) killAll() {
	for n := 0; n < core.NumNodes; n++ {
		c.Kill(n)
	}
}
