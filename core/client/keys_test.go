package client_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"dfs/conf"
	"dfs/core"
	"dfs/core/client"
	"dfs/core/crypt"
	"dfs/internal/testcluster"
	"dfs/node"
)

// keyFile is where node n keeps user's wrapped master key.
func keyFile(c *testcluster.Cluster, n int, user string) string {
	return filepath.Join(c.Dir(n), "users", user, "key")
}

// wantKeyEverywhere fails unless all four nodes hold user's key id.
func wantKeyEverywhere(t *testing.T, c *testcluster.Cluster, user, id string) {
	t.Helper()
	for n := range core.NumNodes {
		b, err := os.ReadFile(keyFile(c, n, user))
		if err != nil || crypt.WrappedID(b) != id {
			t.Errorf("%s holds key %q (%v), want %s", core.NodeName(n), crypt.WrappedID(b), err, id)
		}
	}
}

// TestKeyringFirstLogin: the first login makes one key on all four nodes,
// which every later client of the user loads; a node that lacks it (its
// key file lost while it was stopped) gets it from the next load; the
// first login of another user needs three of the four nodes, and the
// fourth gets that key at a later login.
func TestKeyringFirstLogin(t *testing.T) {
	c := testcluster.Start(t)
	ctx := ctxT(t)
	id, err := c.Client(t, "alice", "Crimson33").MasterKeyID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantKeyEverywhere(t, c, "alice", id)
	if again, err := c.Client(t, "alice", "Crimson33").MasterKeyID(ctx); err != nil || again != id {
		t.Errorf("another client loads %q, %v; want %s", again, err, id)
	}

	c.Stop(2)
	c.Stop(3)
	if _, err := c.Client(t, "bob", "Velvet77").MasterKeyID(ctx); !errors.Is(err, core.ErrKey) || !strings.Contains(err.Error(), "first login needs three of the four nodes") {
		t.Errorf("bob's first login with DFS3 and DFS4 down: %v", err)
	}
	c.Restart(2)
	bobID, err := c.Client(t, "bob", "Velvet77").MasterKeyID(ctx)
	if err != nil {
		t.Fatalf("bob's first login with DFS4 down: %v", err)
	}
	if err := os.Remove(keyFile(c, 3, "alice")); err != nil {
		t.Fatal(err)
	}
	c.Restart(3)
	if got, err := c.Client(t, "alice", "Crimson33").MasterKeyID(ctx); err != nil || got != id {
		t.Fatalf("load with DFS4's key lost: %q, %v", got, err)
	}
	wantKeyEverywhere(t, c, "alice", id)
	if got, err := c.Client(t, "bob", "Velvet77").MasterKeyID(ctx); err != nil || got != bobID {
		t.Fatalf("bob's load after DFS4 came back: %q, %v", got, err)
	}
	wantKeyEverywhere(t, c, "bob", bobID)
}

// TestKeyringRace: two clients' first logins at once end with one key,
// the same for both, on every node.
func TestKeyringRace(t *testing.T) {
	c := testcluster.Start(t)
	ctx := ctxT(t)
	for _, u := range []struct{ user, pw string }{{"alice", "Crimson33"}, {"bob", "Velvet77"}} {
		var ids [2]string
		var wg sync.WaitGroup
		for i := range ids {
			cl := c.Client(t, u.user, u.pw)
			wg.Go(func() {
				id, err := cl.MasterKeyID(ctx)
				if err != nil {
					t.Errorf("%s client %d: %v", u.user, i, err)
				}
				ids[i] = id
			})
		}
		wg.Wait()
		if ids[0] != ids[1] {
			t.Fatalf("%s: racing first logins use keys %s and %s", u.user, ids[0], ids[1])
		}
		wantKeyEverywhere(t, c, u.user, ids[0])
	}
}

// TestKeyringWrongPassword: a wrong password fails at login, before any
// key; an operator's reset (dfsnode user passwd) logs in but opens no
// key: the files need the password they were written with.
func TestKeyringWrongPassword(t *testing.T) {
	c := testcluster.Start(t)
	ctx := ctxT(t)
	if _, err := c.Client(t, "alice", "Crimson33").MasterKeyID(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client(t, "alice", "crimson33").MasterKeyID(ctx); !errors.Is(err, core.ErrAuth) {
		t.Errorf("wrong password: %v, want ErrAuth", err)
	}
	if err := conf.SetPassword(c.ConfPath(), "alice", "Reset1"); err != nil {
		t.Fatal(err)
	}
	reset := c.Client(t, "alice", "Reset1")
	if _, err := reset.Ping(ctx); err != nil {
		t.Fatalf("login after the reset: %v", err)
	}
	if _, err := reset.MasterKeyID(ctx); !errors.Is(err, core.ErrKey) || !strings.Contains(err.Error(), "locked with another password") {
		t.Errorf("key after an operator's reset: %v", err)
	}
}

// refuser is a node's accounts that refuse every login while on is set,
// as a node whose dfs.conf has another password for the user does.
type refuser struct {
	node.Accounts
	on *atomic.Bool
}

func (r refuser) Check(user string, binding []byte, proof string) (bool, error) {
	if r.on.Load() {
		return false, nil
	}
	return r.Accounts.Check(user, binding, proof)
}

// TestKeyringOneNodeRefuses: one node refusing the password (its
// dfs.conf has another for the user: an operator's reset on that node, a
// node lying) does not lock a new client out: it uses the key the other
// three serve. A first login goes ahead on the three others, as with a
// node down, and the refusing node gets the key once it takes the password.
func TestKeyringOneNodeRefuses(t *testing.T) {
	var refuse atomic.Bool
	c := testcluster.Start(t, testcluster.Configure(func(cfg *node.Config) {
		if cfg.Name == core.NodeName(0) {
			cfg.Users = refuser{cfg.Users, &refuse}
		}
	}))
	ctx := ctxT(t)
	cl := c.Client(t, "alice", "Crimson33")
	data := randBytes(t, 10<<10)
	mustPut(t, cl, "f.bin", data)
	id, err := cl.MasterKeyID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refuse.Store(true)
	fresh := c.Client(t, "alice", "Crimson33")
	if got, err := fresh.MasterKeyID(ctx); err != nil || got != id {
		t.Fatalf("a new client with DFS1 refusing loads %q, %v; want %s", got, err, id)
	}
	mustGet(t, fresh, "f.bin", data)

	bobID, err := c.Client(t, "bob", "Velvet77").MasterKeyID(ctx)
	if err != nil {
		t.Fatalf("bob's first login with DFS1 refusing: %v", err)
	}
	if _, err := os.Stat(keyFile(c, 0, "bob")); !os.IsNotExist(err) {
		t.Errorf("DFS1, refusing bob, has a key for him (%v)", err)
	}
	refuse.Store(false)
	if got, err := c.Client(t, "bob", "Velvet77").MasterKeyID(ctx); err != nil || got != bobID {
		t.Fatalf("bob's load with DFS1 accepting again: %q, %v; want %s", got, err, bobID)
	}
	wantKeyEverywhere(t, c, "bob", bobID)
}

// twoKeys returns two master keys of user wrapped by root, the one with
// the smaller id second: the one a tie would pick.
func twoKeys(root *crypt.Root, user string) (a, b *crypt.MasterKey, wa, wb []byte) {
	a, b = crypt.NewMasterKey(), crypt.NewMasterKey()
	if a.ID() < b.ID() {
		a, b = b, a
	}
	return a, b, root.Wrap(user, a), root.Wrap(user, b)
}

// plant stores w as user's key on the nodes given, which hold none.
func plant(t *testing.T, c *testcluster.Cluster, user, pw string, w []byte, nodes ...int) {
	t.Helper()
	cl := c.Client(t, user, pw)
	for _, n := range nodes {
		if got, err := cl.KeyPut(ctxT(t), n, w, nil); err != nil || !bytes.Equal(got, w) {
			t.Fatalf("planting a key on %s: %v", core.NodeName(n), err)
		}
	}
}

// TestKeyringRaceSplit: what two first logins with different views of
// the nodes leave is settled for the key on the most nodes, whatever the
// ids, and a key three nodes hold is never replaced. A first login A that
// saw DFS1-3 put its key there (and uses it); B, seeing DFS2-4, put its
// key on DFS4 only: a client seeing DFS2-4 keeps A's key, even when B's
// id is smaller, and gives it to DFS4. When the nodes that answer hold two
// keys equally and others do not answer, nothing is used or replaced;
// with all four answering, the smaller id wins.
func TestKeyringRaceSplit(t *testing.T) {
	c := testcluster.Start(t)
	ctx := ctxT(t)
	root := crypt.DeriveRoot("alice", "Crimson33")
	a, _, wa, wb := twoKeys(root, "alice")
	plant(t, c, "alice", "Crimson33", wa, 0, 1, 2)
	plant(t, c, "alice", "Crimson33", wb, 3)
	c.Stop(0)
	if got, err := c.Client(t, "alice", "Crimson33").MasterKeyID(ctx); err != nil || got != a.ID() {
		t.Fatalf("load seeing A's key on DFS2,3 and B's (smaller) on DFS4: %q, %v; want A's %s", got, err, a.ID())
	}
	c.Restart(0)
	wantKeyEverywhere(t, c, "alice", a.ID())

	broot := crypt.DeriveRoot("bob", "Velvet77")
	_, b, wa, wb := twoKeys(broot, "bob")
	plant(t, c, "bob", "Velvet77", wa, 0, 1)
	plant(t, c, "bob", "Velvet77", wb, 2, 3)
	c.Stop(1)
	c.Stop(3)
	if _, err := c.Client(t, "bob", "Velvet77").MasterKeyID(ctx); !errors.Is(err, core.ErrUnavailable) || !strings.Contains(err.Error(), "try again") {
		t.Errorf("load seeing one key each on DFS1 and DFS3: %v, want ErrUnavailable", err)
	}
	for n, w := range map[int][]byte{0: wa, 2: wb} {
		if got, err := os.ReadFile(keyFile(c, n, "bob")); err != nil || !bytes.Equal(got, w) {
			t.Errorf("%s's key changed on a tie with nodes down (%v)", core.NodeName(n), err)
		}
	}
	c.Restart(1)
	c.Restart(3)
	if got, err := c.Client(t, "bob", "Velvet77").MasterKeyID(ctx); err != nil || got != b.ID() {
		t.Fatalf("load seeing two keys on two nodes each: %q, %v; want the smaller id %s", got, err, b.ID())
	}
	wantKeyEverywhere(t, c, "bob", b.ID())
}

// TestKeyringOneNodeRefusesReload: a client that reads its configuration
// again on a refusal (dfsmount, dfc) does not take one node's refusal as
// the password's: its later logins to the others go on.
func TestKeyringOneNodeRefusesReload(t *testing.T) {
	var refuse atomic.Bool
	c := testcluster.Start(t, testcluster.Configure(func(cfg *node.Config) {
		if cfg.Name == core.NodeName(0) {
			cfg.Users = refuser{cfg.Users, &refuse}
		}
	}))
	cfg := c.Config("alice", "Crimson33")
	cfg.Reload = func() (client.Reloaded, error) { return client.Reloaded{Password: "Crimson33"}, nil }
	cl := testcluster.NewClient(t, cfg)
	data := randBytes(t, 10<<10)
	mustPut(t, cl, "f.bin", data)
	refuse.Store(true)
	for i := range 3 {
		cl.CloseIdle()
		if _, err := cl.ReadDir(ctxT(t), ""); err != nil {
			t.Fatalf("listing %d with DFS1 refusing: %v", i, err)
		}
	}
	mustGet(t, cl, "f.bin", data)
}
