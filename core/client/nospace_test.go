package client_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"dfs/core"
	"dfs/core/wire"
	"dfs/internal/testcluster"
)

// smallDisk gives node n a tmpfs of size as its data folder, keeping its key
// so its pin stays valid, and unmounts it when the test ends.
func smallDisk(t *testing.T, c *testcluster.Cluster, n int, size string) {
	t.Helper()
	dir := c.Dir(n)
	c.Stop(n)
	keep := map[string][]byte{}
	for _, name := range []string{wire.KeyFile, wire.CertFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		keep[name] = b
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needed to fill a node's disk): %v: %s", err, out)
	}
	// Registered after testcluster.Start, so it runs before the cluster's own
	// cleanup (which then finds the node stopped) and before the temp folder
	// is removed, which it could not be while mounted.
	t.Cleanup(func() {
		c.Stop(n)
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	for name, b := range keep {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c.Restart(n)
}

// TestNoSpace: with every node's disk full, a put fails with ErrNoSpace and
// leaves the earlier files whole, the staging areas empty and the space
// free for the next put.
func TestNoSpace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: each node's data folder is a small tmpfs")
	}
	c := testcluster.Start(t)
	for n := 0; n < core.NumNodes; n++ {
		smallDisk(t, c, n, "3m")
	}
	cl := c.Client(t, "alice", testcluster.Users["alice"])

	small := randBytes(t, 100_000)
	mustPut(t, cl, "small.bin", small)

	// 20 MiB: chunks of 5 MiB, none of which fits on a 3 MiB node.
	_, err := put(t, cl, "big.bin", randBytes(t, 20<<20))
	if !errors.Is(err, core.ErrNoSpace) {
		t.Fatalf("put on full disks: got %v, want ErrNoSpace", err)
	}
	t.Logf("put on full disks: %v", err)
	mustGet(t, cl, "small.bin", small)
	if _, err := cl.Stat(ctxT(t), "big.bin"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("stat big.bin after the failed put: %v, want ErrNotFound", err)
	}

	for n := 0; n < core.NumNodes; n++ {
		staging := filepath.Join(c.Dir(n), "users", "alice", "staging")
		ents, err := os.ReadDir(staging)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range ents {
			if info, err := e.Info(); err == nil && info.Size() > 0 {
				t.Errorf("%s: %s left in staging (%d bytes)", core.NodeName(n), e.Name(), info.Size())
			}
		}
	}

	// 4 MiB: 2 MiB per node, which fits only if the failed upload's
	// partial chunks were removed.
	mid := randBytes(t, 4<<20)
	mustPut(t, cl, "mid.bin", mid)
	mustGet(t, cl, "mid.bin", mid)
	mustGet(t, cl, "small.bin", small)
}
