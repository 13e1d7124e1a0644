// Package crashtest runs the built dfsnode and dfc binaries as real
// processes and kills them with SIGKILL in the middle of writes, to check
// that a crash never leaves a file torn: a reader sees the old version or the
// new one, whole. The package holds only the harness; the tests are in
// crash_test.go.
package crashtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
)

// User and Password are the account every harness cluster has.
const (
	User     = "alice"
	Password = "Crimson33"
)

// Build compiles dfsnode and dfc into dir. They are built without -race:
// the tests only exec them, and the race detector would slow every round.
func Build(dir string) error {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	for _, pkg := range []string{"dfs/cmd/dfsnode", "dfs/cmd/dfc"} {
		cmd := exec.Command(goBin, "build", "-o", dir+"/", pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return nil
}

// proc is one running process; done closes when it has exited.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startProc(cmd *exec.Cmd) (*proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	return p, nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// Cluster is four dfsnode processes, DFS1..DFS4, on loopback ports, with a
// dfc.conf for User that pins their keys.
type Cluster struct {
	t        testing.TB
	bin      string
	dir      string
	ConfPath string // dfc.conf for User

	mu    sync.Mutex // guards the fields below
	ports [core.NumNodes]int
	pins  [core.NumNodes]string
	procs [core.NumNodes]*proc
}

// StartCluster starts four nodes from the binaries in bin, with their data
// under a new temporary folder, and kills them when the test ends.
func StartCluster(t testing.TB, bin string) *Cluster {
	t.Helper()
	c := &Cluster{t: t, bin: bin, dir: t.TempDir()}
	t.Cleanup(c.killAll)
	serverConf := filepath.Join(c.dir, "dfs.conf")
	cmd := exec.Command(filepath.Join(bin, "dfsnode"), "user", "add", User, "-conf", serverConf)
	cmd.Stdin = strings.NewReader(Password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dfsnode user add: %v\n%s", err, out)
	}
	var lines []string
	for n := 0; n < core.NumNodes; n++ {
		if err := os.MkdirAll(c.Dir(n), 0o700); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(filepath.Join(bin, "dfsnode"), "fingerprint", c.Dir(n)).Output()
		if err != nil {
			t.Fatalf("dfsnode fingerprint: %v", err)
		}
		c.pins[n] = strings.TrimSpace(string(out))
		c.Start(n)
		lines = append(lines, fmt.Sprintf("Server %s 127.0.0.1:%d %s", core.NodeName(n), c.ports[n], c.pins[n]))
	}
	c.ConfPath = filepath.Join(c.dir, "dfc.conf")
	s := strings.Join(lines, "\n") + "\nUsername: " + User + "\nPassword: " + Password + "\n"
	if err := os.WriteFile(c.ConfPath, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// Dir returns node n's data folder.
func (c *Cluster) Dir(n int) string { return filepath.Join(c.dir, core.NodeName(n)) }

func (c *Cluster) logPath(n int) string { return c.Dir(n) + ".log" }

// Start runs node n (again, on its port and with its data) and waits until
// it accepts connections. The first start picks a free port.
func (c *Cluster) Start(n int) {
	c.t.Helper()
	var last error
	for try := 0; try < 20; try++ { // a port just freed, or taken between freePort and bind
		if try > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		if last = c.tryStart(n); last == nil {
			return
		}
	}
	c.t.Fatalf("%s: %v", core.NodeName(n), last)
}

func (c *Cluster) tryStart(n int) error {
	c.mu.Lock()
	port := c.ports[n]
	c.mu.Unlock()
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return err
		}
	}
	log, err := os.OpenFile(c.logPath(n), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(filepath.Join(c.bin, "dfsnode"), "-conf", filepath.Join(c.dir, "dfs.conf"),
		c.Dir(n), fmt.Sprint(port))
	cmd.Stdout, cmd.Stderr = log, log
	p, err := startProc(cmd)
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		select {
		case <-p.done:
			data, _ := os.ReadFile(c.logPath(n))
			return fmt.Errorf("dfsnode on port %d exited: %s\n%s", port, cmd.ProcessState, tail(data))
		case <-time.After(20 * time.Millisecond):
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			c.mu.Lock()
			c.ports[n] = port
			c.procs[n] = p
			c.mu.Unlock()
			return nil
		}
	}
	p.kill()
	return fmt.Errorf("dfsnode did not listen on %s", addr)
}

// Kill stops node n with SIGKILL (a no-op when it is not running).
func (c *Cluster) Kill(n int) {
	c.mu.Lock()
	p := c.procs[n]
	c.procs[n] = nil
	c.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

// Pause stops node n with SIGSTOP, as a hung machine would: its
// connections stay open and nothing answers. Resume continues it.
func (c *Cluster) Pause(n int) { c.signal(n, syscall.SIGSTOP) }

// Resume continues a paused node with SIGCONT.
func (c *Cluster) Resume(n int) { c.signal(n, syscall.SIGCONT) }

func (c *Cluster) signal(n int, sig syscall.Signal) {
	c.mu.Lock()
	p := c.procs[n]
	c.mu.Unlock()
	if p == nil {
		c.t.Fatalf("%s is not running", core.NodeName(n))
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		c.t.Fatalf("%s: %v: %v", core.NodeName(n), sig, err)
	}
}

func (c *Cluster) killAll() {
	for n := 0; n < core.NumNodes; n++ {
		c.Kill(n)
	}
}

// Config is a core client configuration for User.
func (c *Cluster) Config() client.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg := client.Config{User: User, Password: Password}
	for n := 0; n < core.NumNodes; n++ {
		cfg.Nodes = append(cfg.Nodes, client.NodeAddr{
			Name: core.NodeName(n), Addr: fmt.Sprintf("127.0.0.1:%d", c.ports[n]), Pin: c.pins[n]})
	}
	return cfg
}

// Client returns a core client for User, closed when the test ends.
func (c *Cluster) Client(t testing.TB, cfg client.Config) *client.Client {
	t.Helper()
	cl, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// Result is one finished run of dfc.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// DfcCmd returns the command running dfc -conf ConfPath ARGS in dir, with
// no password or conf from the environment.
func (c *Cluster) DfcCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, "dfc"), append([]string{"-conf", c.ConfPath}, args...)...)
	cmd.Dir = dir
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DFS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "HOME="+dir)
	return cmd
}

// Dfc runs dfc to the end.
func (c *Cluster) Dfc(dir string, args ...string) Result {
	c.t.Helper()
	cmd := c.DfcCmd(dir, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("dfc %v: %v", args, err)
	}
	return r
}

// MustDfc runs dfc and fails the test unless it exits 0.
func (c *Cluster) MustDfc(dir string, args ...string) Result {
	c.t.Helper()
	r := c.Dfc(dir, args...)
	if r.Code != 0 {
		c.t.Fatalf("dfc %v: exit %d\nstdout: %s\nstderr: %s", args, r.Code, r.Stdout, r.Stderr)
	}
	return r
}

// KillAfter starts cmd and sends it SIGKILL after d unless it has exited
// by then. It reports whether cmd ran to the end, and its exit code if so.
func KillAfter(cmd *exec.Cmd, d time.Duration) (finished bool, code int, err error) {
	p, err := startProc(cmd)
	if err != nil {
		return false, 0, err
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.done:
		return true, p.cmd.ProcessState.ExitCode(), nil
	case <-timer.C:
		p.kill()
		// It may have exited on its own just before the signal.
		if ws := p.cmd.ProcessState; ws.Exited() {
			return true, ws.ExitCode(), nil
		}
		return false, -1, nil
	}
}

// Get reads name whole with cl.
func Get(ctx context.Context, cl *client.Client, name string) ([]byte, error) {
	var b buffer
	_, err := cl.Get(ctx, name, &b, nil)
	return b.data, err
}

// buffer is an in-memory io.WriterAt.
type buffer struct {
	mu   sync.Mutex // Get may write chunks concurrently
	data []byte
}

func (b *buffer) WriteAt(p []byte, off int64) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if end := off + int64(len(p)); end > int64(len(b.data)) {
		b.data = append(b.data, make([]byte, end-int64(len(b.data)))...)
	}
	copy(b.data[off:], p)
	return len(p), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte) []byte {
	if len(b) > 4000 {
		return b[len(b)-4000:]
	}
	return b
}
