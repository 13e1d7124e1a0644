package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dfs/conf"
	"dfs/core"
	"dfs/internal/testcluster"
)

// unpinnedConf writes a dfc.conf for Alice with the cluster's nodes and no
// pins (extra lines appended) and returns its path.
func unpinnedConf(t *testing.T, c *testcluster.Cluster, extra ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dfc.conf")
	s := ""
	for _, a := range c.Nodes() {
		s += "Server " + a.Name + " " + a.Addr + "\n"
	}
	s += "Username: alice\nPassword: " + testcluster.Users["alice"] + "\n" + strings.Join(extra, "\n")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// pins returns the pins of the dfc.conf at path, DFS1..DFS4.
func pins(t *testing.T, path string) []string {
	t.Helper()
	cc, err := conf.LoadClient(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range cc.Servers {
		out = append(out, s.Pin)
	}
	return out
}

// noLogin checks that no node saw a login (nothing was sent after the
// TLS handshake).
func noLogin(t *testing.T, c *testcluster.Cluster) {
	t.Helper()
	for n := range core.NumNodes {
		if strings.Contains(c.Log(n), "user=alice") {
			t.Errorf("%s saw a login:\n%s", core.NodeName(n), c.Log(n))
		}
	}
}

// TestFirstContactWithoutTerminal: without a terminal dfc pins the keys of
// nodes without a pin, with a warning on stderr naming each; with Pins:
// strict it refuses, names the node and sends nothing.
func TestFirstContactWithoutTerminal(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()

	strict := unpinnedConf(t, c.Cluster, "Pins: strict")
	r := dfc(t, dir, "", "-conf", strict, "list")
	if r.Code != 1 || !strings.Contains(r.Stderr, "Pins: strict") || !strings.Contains(r.Stderr, "dfsnode fingerprint") ||
		!strings.Contains(r.Stderr, "DFS") || strings.Contains(r.Stderr, "yes/no") {
		t.Fatalf("strict: exit %d\n%s", r.Code, r.Stderr)
	}
	noLogin(t, c.Cluster)
	for n, p := range pins(t, strict) {
		if p != "" {
			t.Errorf("strict: DFS%d pinned %s", n+1, p)
		}
	}

	path := unpinnedConf(t, c.Cluster)
	r = dfc(t, dir, "", "-conf", path, "list")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	for n, a := range c.Nodes() {
		if !strings.Contains(r.Stderr, "warning: first contact with "+a.Name+" at "+a.Addr+": trusted its key "+a.Pin) {
			t.Errorf("no warning about %s:\n%s", a.Name, r.Stderr)
		}
		if got := pins(t, path)[n]; got != a.Pin {
			t.Errorf("%s pinned %q, want %s", a.Name, got, a.Pin)
		}
	}
	if r := dfc(t, dir, "", "-conf", path, "list"); r.Code != 0 || r.Stderr != "" {
		t.Errorf("pinned: exit %d, stderr %q", r.Code, r.Stderr)
	}
}
