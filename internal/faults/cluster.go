package faults

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"dfs/core"
	"dfs/core/client"
)

// port is every node's port; each node has its own address.
const port = "10001"

// cluster is four dfsnode processes, node n in namespace nw.ns[n].
type cluster struct {
	bin, conf, root string
	nw              *network
	user, password  string
	pins            [core.NumNodes]string

	mu    sync.Mutex // guards procs
	procs [core.NumNodes]*proc
}

// proc is one running dfsnode; exited closes once it has been reaped.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// buildNode compiles dfsnode into dir.
func buildNode(dir string) (string, error) {
	bin := filepath.Join(dir, "dfsnode")
	cmd := exec.Command("go", "build", "-o", bin, "dfs/cmd/dfsnode")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build dfsnode: %w: %s", err, out)
	}
	return bin, nil
}

// newCluster builds dfsnode, makes dfs.conf with one user and each node's
// key (for the pins), but starts nothing.
func newCluster(root string, nw *network) (*cluster, error) {
	bin, err := buildNode(root)
	if err != nil {
		return nil, err
	}
	pw := make([]byte, 12)
	rand.Read(pw)
	c := &cluster{bin: bin, conf: filepath.Join(root, "dfs.conf"), root: root, nw: nw,
		user: "faults", password: hex.EncodeToString(pw)}
	add := exec.Command(bin, "user", "add", c.user, "-conf", c.conf)
	add.Stdin = strings.NewReader(c.password + "\n") // never on the command line
	if out, err := add.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("dfsnode user add: %w: %s", err, out)
	}
	for n := range c.pins {
		out, err := exec.Command(bin, "fingerprint", c.dir(n)).Output()
		if err != nil {
			return nil, fmt.Errorf("dfsnode fingerprint %s: %w", c.dir(n), err)
		}
		c.pins[n] = strings.TrimSpace(string(out))
	}
	return c, nil
}

// dir is node n's data folder; its base name is the node's name.
func (c *cluster) dir(n int) string { return filepath.Join(c.root, core.NodeName(n)) }

func (c *cluster) addr(n int) string { return net.JoinHostPort(c.nw.nodeIP(n), port) }

// nodes is the client's view of the cluster.
func (c *cluster) nodes() []client.NodeAddr {
	out := make([]client.NodeAddr, core.NumNodes)
	for n := range out {
		out[n] = client.NodeAddr{Name: core.NodeName(n), Addr: c.addr(n), Pin: c.pins[n]}
	}
	return out
}

// client returns a new client of the suite's user.
func (c *cluster) client() (*client.Client, error) {
	return client.New(client.Config{Nodes: c.nodes(), User: c.user, Password: c.password,
		Timeout: time.Second, Reply: 5 * time.Second, IOTimeout: 10 * time.Second})
}

// start runs node n in its namespace and waits until it accepts connections.
func (c *cluster) start(n int) error {
	logf, err := os.OpenFile(filepath.Join(c.root, core.NodeName(n)+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== start %s\n", time.Now().Format(time.RFC3339Nano))
	// ip netns exec switches namespace and execs dfsnode in the same
	// process, so its pid is the node's; the process group catches any child.
	cmd := exec.Command("ip", "netns", "exec", c.nw.ns[n], c.bin,
		"-conf", c.conf, "-listen", c.nw.nodeIP(n), c.dir(n), port)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", core.NodeName(n), err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	c.mu.Lock()
	c.procs[n] = &proc{cmd: cmd, exited: exited}
	c.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("%s exited at start: %s", core.NodeName(n), c.logTail(n))
		default:
		}
		conn, err := net.DialTimeout("tcp", c.addr(n), 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not listening on %s after 15s: %s", core.NodeName(n), c.addr(n), c.logTail(n))
}

// kill stops node n with SIGKILL and waits for it to be gone.
func (c *cluster) kill(n int) {
	c.mu.Lock()
	p := c.procs[n]
	c.procs[n] = nil
	c.mu.Unlock()
	if p == nil {
		return
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
	}
}

// killAll stops every node.
func (c *cluster) killAll() {
	for n := range c.procs {
		c.kill(n)
	}
}

// wipe empties node n's data folder but for its key, as a replaced disk
// with the node's identity restored from backup.
func (c *cluster) wipe(n int) error {
	ents, err := os.ReadDir(c.dir(n))
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Name() == "node.key" || e.Name() == "node.crt" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(c.dir(n), e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// logTail is the end of node n's log, for error messages.
func (c *cluster) logTail(n int) string {
	b, _ := os.ReadFile(filepath.Join(c.root, core.NodeName(n)+".log"))
	b = bytes.TrimSpace(b)
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return string(b)
}
