package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A node reinstalled with a new key is refused until dfc pin shows the new
// key and, confirmed, pins it and heals the node back to full copies.
func TestPinReinstalledNode(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	randomFile(t, filepath.Join(dir, "a.bin"), 100_000)
	randomFile(t, filepath.Join(dir, "b.bin"), 3<<20)
	c.ok(dir, "put", "a.bin", "b.bin")
	oldPin := c.Nodes()[1].Pin

	c.Reinstall(1) // DFS2: empty, with a new key
	newPin := c.Nodes()[1].Pin
	if newPin == oldPin {
		t.Fatal("the reinstalled node kept its key")
	}
	r := dfc(t, dir, "", "-conf", c.confPath, "status")
	if r.Code != 1 || !strings.Contains(r.Stderr, "presented key "+newPin) || !strings.Contains(r.Stderr, "run `dfc pin DFS2`") {
		t.Errorf("status before pin: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	// Without a terminal and without -yes: shown, not trusted.
	r = dfc(t, dir, "", "-conf", c.confPath, "pin", "DFS2")
	if r.Code != 1 || !strings.Contains(r.Stderr, newPin) || !strings.Contains(r.Stderr, oldPin) || !strings.Contains(r.Stderr, "-yes") {
		t.Errorf("pin without -yes: exit %d, %q", r.Code, r.Stderr)
	}
	if b, _ := os.ReadFile(c.confPath); !strings.Contains(string(b), oldPin) {
		t.Errorf("the pin changed without confirmation:\n%s", b)
	}

	r = c.ok(dir, "pin", "DFS2", "-yes")
	if !strings.Contains(r.Stdout, "pinned the key of DFS2 ("+newPin+")") || !strings.Contains(r.Stdout, "chunk copies restored") {
		t.Errorf("pin -yes said:\n%s%s", r.Stdout, r.Stderr)
	}
	if b, _ := os.ReadFile(c.confPath); !strings.Contains(string(b), newPin) || strings.Contains(string(b), oldPin) {
		t.Errorf("conf after pin:\n%s", b)
	}
	r = c.ok(dir, "status")
	if !strings.Contains(r.Stdout, "all 2 files survive the loss of any one node") {
		t.Errorf("status after pin and heal:\n%s", r.Stdout)
	}
	r = c.ok(dir, "pin", "DFS2", "-no-heal")
	if !strings.Contains(r.Stdout, "is the one pinned") {
		t.Errorf("pin of a pinned key: %q", r.Stdout)
	}
}
