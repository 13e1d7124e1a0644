package testcluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"dfs/core"
)

// Namespaces runs each node as a dfsnode process in a network namespace of
// its own, joined to the test's by a bridge: separate hosts, each with its
// address, which Cut silences. It needs root, ip (iproute2) and nft
// (nftables); without them, or when the machine cannot make namespaces,
// the test is skipped, or fails when DFS_REQUIRE_NETNS=1.
func Namespaces() Option { return func(c *Cluster) { c.newBackend = newNamespaces } }

// nodePort is every node's port; each node has its own address.
const nodePort = "10001"

func newNamespaces(c *Cluster) backend {
	t := c.t
	t.Helper()
	if why := precheck(); why != "" {
		if os.Getenv("DFS_REQUIRE_NETNS") == "1" {
			t.Fatalf("DFS_REQUIRE_NETNS=1 but %s", why)
		}
		t.Skip(why)
	}
	cleanLeftovers()
	nw := &network{}
	t.Cleanup(func() {
		if err := nw.teardown(); err != nil {
			t.Errorf("teardown: %v", err)
		}
	})
	if err := setupNetwork(nw, core.NumNodes); err != nil {
		if errors.Is(err, errNoNetns) && os.Getenv("DFS_REQUIRE_NETNS") != "1" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	return newProcesses(c, nw)
}

// addr is node n's address in its namespace, the same at every start.
func (nw *network) addr(n int, prev string) (string, error) {
	return net.JoinHostPort(nw.nodeIP(n), nodePort), nil
}

// command runs argv in node n's namespace. ip netns exec switches
// namespace and execs argv in the same process, so its pid is the node's.
func (nw *network) command(n int, argv []string) []string {
	return append([]string{"ip", "netns", "exec", nw.ns[n]}, argv...)
}

// Cut drops every packet to and from node n, without a reset: its peers
// see a silent host. Namespaces only; Uncut undoes it.
func (c *Cluster) Cut(n int) {
	c.t.Helper()
	if err := cut(c.network().ns[n]); err != nil {
		c.t.Fatalf("%s: cut: %v", core.NodeName(n), err)
	}
}

// Uncut lets node n's packets through again.
func (c *Cluster) Uncut(n int) {
	c.t.Helper()
	if err := uncut(c.network().ns[n]); err != nil {
		c.t.Fatalf("%s: uncut: %v", core.NodeName(n), err)
	}
}

func (c *Cluster) network() *network {
	c.t.Helper()
	if p, ok := c.be.(*processes); ok {
		if nw, ok := p.host.(*network); ok {
			return nw
		}
	}
	c.t.Fatal("only nodes in network namespaces (Namespaces) can be cut off")
	return nil
}

// prefix starts the name of every namespace and link a cluster makes, so a
// later run can find what a crashed one left behind.
const prefix = "dfsf"

// network is the hosts: a bridge in the root namespace (the client's host)
// and one namespace per node, joined to the bridge by a veth pair.
type network struct {
	id     string   // the run's id, in every name
	lock   *os.File // held while the run lives; see lockDir
	subnet int      // X in 10.213.X.0/24
	ns     []string // namespace per node
	links  []string // root-side links to delete: bridge and veth ends
}

// run runs a command and returns its combined output in the error.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// inNS runs a command inside namespace ns.
func inNS(ns, name string, args ...string) error {
	return run("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// precheck says why this machine cannot run nodes in namespaces, or "" if
// it can. Whether namespaces work is found out by setupNetwork.
func precheck() string {
	if os.Geteuid() != 0 {
		return "nodes in network namespaces need root (ip netns, veth, nft)"
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Sprintf("nodes in network namespaces need %q (iproute2, nftables): %v", tool, err)
		}
	}
	return ""
}

// lockDir holds one lock file per running cluster, held with flock for the
// run's life: a run that died leaves a file nobody holds, and its
// namespaces and links are then leftovers. Pids would not do: runs in
// other pid namespaces (containers) share the network ones.
const lockDir = "/run/dfsfaults"

// idLen is the length of a run's id, random hex, in every name.
const idLen = 6

// claimID picks a fresh run id and locks it.
func claimID() (string, *os.File, error) {
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return "", nil, err
	}
	for {
		b := make([]byte, idLen/2)
		rand.Read(b)
		id := hex.EncodeToString(b)
		f, err := os.OpenFile(filepath.Join(lockDir, id), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			return "", nil, err
		}
		return id, f, nil
	}
}

// stale reports whether the run that made name (prefix + id + suffix) is
// gone, removing its lock file if so.
func stale(name string) bool {
	rest := strings.TrimPrefix(name, prefix)
	if len(rest) < idLen {
		return false
	}
	if _, err := hex.DecodeString(rest[:idLen]); err != nil {
		return false // not a name of ours
	}
	lock := filepath.Join(lockDir, rest[:idLen])
	f, err := os.OpenFile(lock, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false // its run holds it
	}
	os.Remove(lock)
	return true
}

// cleanLeftovers deletes namespaces and links of earlier runs that died
// before their cleanup.
func cleanLeftovers() {
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) > 0 && strings.HasPrefix(f[0], prefix) && stale(f[0]) {
				run("ip", "netns", "del", f[0])
			}
		}
	}
	ifs, _ := net.Interfaces()
	for _, i := range ifs {
		if strings.HasPrefix(i.Name, prefix) && stale(i.Name) {
			run("ip", "link", "del", i.Name)
		}
	}
}

// pickSubnet chooses a random X for 10.213.X.0/24, skipping subnets a route
// already uses.
func pickSubnet() int {
	routes, _ := exec.Command("ip", "-4", "route", "show").Output()
	base := mrand.IntN(200)
	for i := 0; i < 200; i++ {
		x := 20 + (base+i)%200
		if !strings.Contains(string(routes), fmt.Sprintf("10.213.%d.", x)) {
			return x
		}
	}
	return 20 + base
}

// nodeIP is node n's address (n from 0).
func (nw *network) nodeIP(n int) string { return fmt.Sprintf("10.213.%d.%d", nw.subnet, 11+n) }

// errNoNetns says the machine cannot make namespaces or filter in them: a
// reason to skip, not a failure.
var errNoNetns = errors.New("network namespaces unusable")

// setupNetwork makes the bridge and the nodes' namespaces. Whatever it made
// is recorded in nw at once, so teardown removes it even after a failure.
func setupNetwork(nw *network, nodes int) error {
	id, lock, err := claimID()
	if err != nil {
		return fmt.Errorf("lock in %s: %w", lockDir, err)
	}
	nw.id, nw.lock = id, lock
	nw.subnet = pickSubnet()
	probe := prefix + nw.id + "n1"
	if err := run("ip", "netns", "add", probe); err != nil {
		return fmt.Errorf("%w: %w", errNoNetns, err)
	}
	nw.ns = append(nw.ns, probe)
	if err := inNS(probe, "nft", "list", "tables"); err != nil {
		return fmt.Errorf("%w: nft inside a namespace: %w", errNoNetns, err)
	}
	br := prefix + nw.id + "br"
	if err := run("ip", "link", "add", br, "type", "bridge"); err != nil {
		return err
	}
	nw.links = append(nw.links, br)
	if err := run("ip", "addr", "add", fmt.Sprintf("10.213.%d.1/24", nw.subnet), "dev", br); err != nil {
		return err
	}
	if err := run("ip", "link", "set", br, "up"); err != nil {
		return err
	}
	for n := 0; n < nodes; n++ {
		ns := fmt.Sprintf("%s%sn%d", prefix, nw.id, n+1)
		if n > 0 {
			if err := run("ip", "netns", "add", ns); err != nil {
				return err
			}
			nw.ns = append(nw.ns, ns)
		}
		host := fmt.Sprintf("%s%sv%d", prefix, nw.id, n+1)
		peer := fmt.Sprintf("%s%sp%d", prefix, nw.id, n+1)
		if err := run("ip", "link", "add", host, "type", "veth", "peer", "name", peer); err != nil {
			return err
		}
		nw.links = append(nw.links, host)
		steps := [][]string{
			{"link", "set", peer, "netns", ns},
			{"link", "set", host, "master", br},
			{"link", "set", host, "up"},
			{"-n", ns, "link", "set", "lo", "up"},
			{"-n", ns, "addr", "add", nw.nodeIP(n) + "/24", "dev", peer},
			{"-n", ns, "link", "set", peer, "up"},
		}
		for _, s := range steps {
			if err := run("ip", s...); err != nil {
				return err
			}
		}
	}
	return nil
}

// teardown deletes every namespace and link of nw, returning the first error.
func (nw *network) teardown() error {
	var errs []error
	for _, ns := range nw.ns {
		if err := run("ip", "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	// Deleting a namespace deletes its veth end and with it the pair; only
	// the bridge, and pairs never moved, remain.
	for i := len(nw.links) - 1; i >= 0; i-- {
		if _, err := net.InterfaceByName(nw.links[i]); err != nil {
			continue
		}
		if err := run("ip", "link", "del", nw.links[i]); err != nil {
			// The kernel removes a pair whose other end went with its
			// namespace a moment after "ip netns del" returns.
			if _, gone := net.InterfaceByName(nw.links[i]); gone == nil {
				errs = append(errs, err)
			}
		}
	}
	if nw.lock != nil && len(errs) == 0 {
		os.Remove(nw.lock.Name())
		nw.lock.Close() // after the removal: no other run may take the id meanwhile
		nw.lock = nil
	}
	return errors.Join(errs...)
}

// cut drops every packet in and out of namespace ns, without a reset: peers
// see a silent host.
func cut(ns string) error {
	rules := "table inet dfsfault {\n" +
		" chain in { type filter hook input priority 0; policy drop; }\n" +
		" chain out { type filter hook output priority 0; policy drop; }\n" +
		"}\n"
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft in %s: %w: %s", ns, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// uncut undoes cut.
func uncut(ns string) error { return inNS(ns, "nft", "delete", "table", "inet", "dfsfault") }
