package testcluster

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"dfs/core"
)

// Processes runs the nodes as dfsnode processes on free loopback ports
// (the binary is built once per test binary; see Main). Kill sends
// SIGKILL, Freeze SIGSTOP. Each node logs to its folder's name plus ".log";
// the test log shows the end of each when the test fails.
func Processes() Option {
	return func(c *Cluster) {
		c.newBackend = func(c *Cluster) backend { return newProcesses(c, loopback{}) }
	}
}

// host is where node processes run.
type host interface {
	// addr returns the address node n is to listen on: prev, where it
	// listened before, or a new one when prev is "".
	addr(n int, prev string) (string, error)
	// command returns the command line that runs argv as node n.
	command(n int, argv []string) []string
}

// loopback runs every node on a port of 127.0.0.1.
type loopback struct{}

func (loopback) addr(n int, prev string) (string, error) {
	if prev != "" {
		return prev, nil
	}
	return freeAddr()
}

func (loopback) command(n int, argv []string) []string { return argv }

// processes runs each node as a dfsnode process on its host.
type processes struct {
	c    *Cluster
	bin  string // dfsnode
	host host

	mu    sync.Mutex // guards procs
	procs [core.NumNodes]*proc
}

func newProcesses(c *Cluster, h host) *processes {
	if c.grace != 0 {
		c.t.Fatal("testcluster: Grace is for in-process nodes only (dfsnode has no flag for it)")
	}
	p := &processes{c: c, bin: Binary(c.t, "dfsnode"), host: h}
	c.t.Cleanup(func() {
		if c.t.Failed() {
			for n := 0; n < core.NumNodes; n++ {
				c.t.Logf("%s log tail:\n%s", core.NodeName(n), p.logTail(n))
			}
		}
	})
	return p
}

// addUser runs dfsnode user add, the password on stdin as a person would
// type it (never on the command line).
func (p *processes) addUser(path, user, password string) error {
	cmd := exec.Command(p.bin, "user", "add", user, "-conf", path)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("dfsnode user add %s: %v\n%s", user, err, out)
	}
	return nil
}

// setQuota runs dfsnode user quota on every node's own dfs.conf, after
// their first start (which copies the cluster's).
func (p *processes) setQuota(user, quota string) error {
	for n := 0; n < core.NumNodes; n++ {
		cmd := exec.Command(p.bin, "user", "quota", user, quota, "-conf", p.confPath(n))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("dfsnode user quota %s %s: %v\n%s", user, quota, err, out)
		}
	}
	return nil
}

// confPath is node n's own copy of dfs.conf, as each machine of a real
// cluster has: a password changed through one node reaches the others
// only through the client, as it would there.
func (p *processes) confPath(n int) string { return p.c.Dir(n) + ".conf" }

func (p *processes) logPath(n int) string { return p.c.Dir(n) + ".log" }

func (p *processes) start(n int, addr string) (string, error) {
	if _, err := os.Stat(p.confPath(n)); os.IsNotExist(err) {
		data, err := os.ReadFile(p.c.confPath)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(p.confPath(n), data, 0o600); err != nil {
			return "", err
		}
	}
	var last error
	for try := 0; try < 20; try++ { // a port just freed, or taken between freeAddr and the node's bind
		if try > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		a, err := p.host.addr(n, addr)
		if err != nil {
			last = err
			continue
		}
		if last = p.tryStart(n, a); last == nil || errors.Is(last, errSilent) {
			return a, last
		}
	}
	return "", last
}

// errSilent is a node that runs but does not listen: no port race, so not
// worth another try.
var errSilent = errors.New("dfsnode did not listen after 20s")

// tryStart runs node n on addr and waits until it accepts connections.
func (p *processes) tryStart(n int, addr string) error {
	ip, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	log, err := os.OpenFile(p.logPath(n), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Fprintf(log, "=== start on %s at %s\n", addr, time.Now().Format(time.RFC3339Nano))
	argv := []string{p.bin, "-conf", p.confPath(n), "-listen", ip}
	if p.c.plain {
		argv = append(argv, "-plaintext-insecure")
	}
	argv = p.host.command(n, append(argv, p.c.Dir(n), port))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	pr, err := startProc(cmd)
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		select {
		case <-pr.done:
			return fmt.Errorf("dfsnode on %s exited: %s\n%s", addr, cmd.ProcessState, p.logTail(n))
		case <-time.After(20 * time.Millisecond):
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			p.mu.Lock()
			p.procs[n] = pr
			p.mu.Unlock()
			return nil
		}
	}
	pr.kill()
	return fmt.Errorf("%w on %s\n%s", errSilent, addr, p.logTail(n))
}

func (p *processes) stop(n int, kill bool) {
	p.mu.Lock()
	pr := p.procs[n]
	p.procs[n] = nil
	p.mu.Unlock()
	if pr == nil {
		return
	}
	if kill {
		pr.kill()
		return
	}
	pr.signal(syscall.SIGTERM)
	pr.signal(syscall.SIGCONT) // a frozen node takes the SIGTERM once it runs
	select {
	case <-pr.done:
	case <-time.After(10 * time.Second):
		pr.kill()
	}
}

// pid is node n's process id, or 0 when it is not running.
func (p *processes) pid(n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.procs[n] == nil {
		return 0
	}
	return p.procs[n].cmd.Process.Pid
}

func (p *processes) freeze(n int, frozen bool) error {
	p.mu.Lock()
	pr := p.procs[n]
	p.mu.Unlock()
	if pr == nil {
		return errors.New("not running")
	}
	if frozen {
		return pr.signal(syscall.SIGSTOP)
	}
	return pr.signal(syscall.SIGCONT)
}

// logTail is the end of node n's log, for error messages.
func (p *processes) logTail(n int) string {
	b, _ := os.ReadFile(p.logPath(n))
	b = bytes.TrimSpace(b)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// proc is a running process, in a process group of its own so that a
// signal reaches whatever it started too; done closes once it has exited.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startProc(cmd *exec.Cmd) (*proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	return p, nil
}

// signal sends sig to the process's group, unless the process has exited
// (its group may then be another's).
func (p *proc) signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return errors.New("exited")
	default:
		return syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.signal(syscall.SIGKILL)
	<-p.done
}
