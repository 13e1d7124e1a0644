package trust_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"dfs/core"
	"dfs/internal/testcluster"
)

// TestPasswdFreshMachine: after dfc passwd every node refuses the old
// password, and a fresh machine (a new dfc.conf with only the new
// password, nothing cached) mounts and reads every file written before,
// byte for byte: the master key was rewrapped, not lost.
func TestPasswdFreshMachine(t *testing.T) {
	r := newRig(t)
	files := map[string][]byte{
		"small.txt":       []byte("small enough to be kept inline"),
		"empty":           {},
		"docs/big.bin":    random(5<<20 + 12345), // two segments
		"docs/medium.bin": random(300 << 10),
	}
	for name, data := range files {
		r.put(name, data)
	}
	mp, unmount := testcluster.Mount(t, r.conf, password)
	files["mounted/through.txt"] = random(70 << 10)
	for _, err := range []error{
		os.Mkdir(filepath.Join(mp, "mounted"), 0o755),
		os.WriteFile(filepath.Join(mp, "mounted/through.txt"), files["mounted/through.txt"], 0o644),
		os.Symlink("docs/big.bin", filepath.Join(mp, "link")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	unmount()

	const newPassword = "Saffron-52-new"
	if res := r.dfcWith(r.conf, password+"\n"+newPassword+"\n", "passwd"); res.Code != 0 {
		t.Fatalf("dfc passwd: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}

	for n := 0; n < core.NumNodes; n++ {
		if err := r.loginTo(n, password); !errors.Is(err, core.ErrAuth) {
			t.Errorf("%s with the old password after dfc passwd: %v, want %v", core.NodeName(n), err, core.ErrAuth)
		}
	}

	fresh := filepath.Join(t.TempDir(), "dfc.conf")
	r.WriteClientConf(t, fresh, "alice", newPassword)
	mp, _ = testcluster.Mount(t, fresh, newPassword)
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(mp, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s on a fresh machine with the new password: %d bytes (of %d), %v", name, len(got), len(want), err)
		}
	}
	if target, err := os.Readlink(filepath.Join(mp, "link")); err != nil || target != "docs/big.bin" {
		t.Errorf("symlink on a fresh machine: %q, %v", target, err)
	}
}

// loginTo logs in to node n alone as alice with pw and returns the node's
// answer: a client whose other nodes are at an address where nothing
// listens pings them all.
func (r *rig) loginTo(n int, pw string) error {
	r.t.Helper()
	cfg := r.Config("alice", pw)
	for m := range cfg.Nodes {
		if m != n {
			cfg.Nodes[m].Addr = "127.0.0.1:1"
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	states, err := testcluster.NewClient(r.t, cfg).Ping(ctx)
	if len(states) <= n {
		return err
	}
	return states[n].Err
}
