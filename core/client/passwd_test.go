package client_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"dfs/core"
	"dfs/core/crypt"
	"dfs/internal/testcluster"
)

// TestPasswd changes a password on four nodes that share one dfs.conf (as
// the test cluster's do): the old password is refused after, and the new
// one opens the same master key on a fresh client, which reads the files
// written before. With a node down nothing changes.
func TestPasswd(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "bob", "Velvet77")
	ctx := ctxT(t)
	data := randBytes(t, 100<<10)
	mustPut(t, cl, "before.bin", data)
	id, err := cl.MasterKeyID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Passwd(ctx, "wrong", "Tangerine88"); !errors.Is(err, core.ErrKey) {
		t.Fatalf("passwd with a wrong old password: %v", err)
	}
	if err := cl.Passwd(ctx, "Velvet77", "Tangerine88"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client(t, "bob", "Velvet77").Ping(ctx); !errors.Is(err, core.ErrAuth) {
		t.Fatalf("old password after passwd: %v", err)
	}
	fresh := c.Client(t, "bob", "Tangerine88")
	if got, err := fresh.MasterKeyID(ctx); err != nil || got != id {
		t.Fatalf("new password opens %q, %v; want the same key %s", got, err, id)
	}
	wantKeyEverywhere(t, c, "bob", id)
	mustGet(t, fresh, "before.bin", data)
	mustPut(t, cl, "after.bin", data) // the client that changed it carries on
	mustGet(t, fresh, "after.bin", data)

	c.Stop(3)
	if err := c.Client(t, "bob", "Tangerine88").Passwd(ctx, "Tangerine88", "x1234567"); err == nil {
		t.Fatal("passwd with a node down succeeded")
	}
	if _, err := c.Client(t, "bob", "Tangerine88").Ping(ctx); err != nil {
		t.Fatalf("the password after a refused change: %v", err)
	}
}

// TestPasswdStaleWrap: a node holding a key of the user's that neither
// password opens (the wrap of an earlier password) stops dfc passwd with
// what to do about it, and doing that lets it through.
func TestPasswdStaleWrap(t *testing.T) {
	c := testcluster.Start(t)
	ctx := ctxT(t)
	cl := c.Client(t, "alice", "Crimson33")
	id, err := cl.MasterKeyID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := os.ReadFile(keyFile(c, 3, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	stale := crypt.DeriveRoot("alice", "Earlier99").Wrap("alice", crypt.NewMasterKey())
	if _, err := cl.KeyPut(ctx, 3, stale, cur); err != nil {
		t.Fatal(err)
	}
	err = cl.Passwd(ctx, "Crimson33", "Tangerine88")
	if !errors.Is(err, core.ErrKey) || !strings.Contains(err.Error(), "remove users/alice/key") || !strings.Contains(err.Error(), "run dfc passwd again") {
		t.Fatalf("passwd with DFS4 holding a stale wrap: %v", err)
	}
	if err := os.Remove(keyFile(c, 3, "alice")); err != nil {
		t.Fatal(err)
	}
	fresh := c.Client(t, "alice", "Crimson33") // its login gives DFS4 the key
	if err := fresh.Passwd(ctx, "Crimson33", "Tangerine88"); err != nil {
		t.Fatalf("passwd after DFS4's stale key was removed: %v", err)
	}
	wantKeyEverywhere(t, c, "alice", id)
}
