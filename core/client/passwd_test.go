package client_test

import (
	"errors"
	"testing"

	"dfs/core"
	"dfs/internal/testcluster"
)

// TestPasswdSharedConf changes a password on four nodes that share one
// dfs.conf (as the test cluster's do): the later nodes already have it.
func TestPasswdSharedConf(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "bob", "Velvet77")
	ctx := ctxT(t)
	if err := cl.Passwd(ctx, "Velvet77", "Tangerine88"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client(t, "bob", "Velvet77").Ping(ctx); !errors.Is(err, core.ErrAuth) {
		t.Fatalf("old password after passwd: %v", err)
	}
	if _, err := c.Client(t, "bob", "Tangerine88").Ping(ctx); err != nil {
		t.Fatalf("new password: %v", err)
	}
	c.Stop(3)
	if err := c.Client(t, "bob", "Tangerine88").Passwd(ctx, "Tangerine88", "x1234567"); err == nil {
		t.Fatal("passwd with a node down succeeded")
	}
}
