package clientconf

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dfs/conf"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// TestPinsRecordedOnFirstContact: a dfc.conf without pins gets each node's
// key written into its Server line on first contact, comments kept.
func TestPinsRecordedOnFirstContact(t *testing.T) {
	c := testcluster.Start(t)
	path := filepath.Join(t.TempDir(), "dfc.conf")
	s := "# my cluster\n"
	for _, a := range c.Nodes() {
		s += "Server " + a.Name + " " + a.Addr + "\n"
	}
	s += "Username: alice\n"
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(PasswordEnv, "Crimson33")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cl.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	cc, err := conf.LoadClient(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range c.Nodes() {
		if cc.Servers[i].Pin != a.Pin {
			t.Errorf("%s pinned %q, want %q", a.Name, cc.Servers[i].Pin, a.Pin)
		}
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "# my cluster\n") {
		t.Errorf("comment lost:\n%s", b)
	}
}
