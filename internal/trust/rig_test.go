package trust_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"dfs/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// alice's password on every test cluster.
var password = testcluster.Users["alice"]

// rig is one test's four dfsnode processes and alice's dfc.conf.
type rig struct {
	*testcluster.Cluster
	t    *testing.T
	dir  string // dfc's working folder (its HOME)
	conf string // alice's dfc.conf, with pins and her password
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{Cluster: testcluster.Start(t, testcluster.Processes()), t: t, dir: t.TempDir()}
	r.conf = filepath.Join(r.dir, "dfc.conf")
	r.WriteClientConf(t, r.conf, "alice", password)
	return r
}

// dfc runs dfc -conf conf ARGS with stdin.
func (r *rig) dfcWith(conf, stdin string, args ...string) testcluster.Result {
	r.t.Helper()
	cmd := testcluster.Command(testcluster.Binary(r.t, "dfc"), r.dir, append([]string{"-conf", conf}, args...)...)
	return testcluster.Run(r.t, cmd, stdin)
}

// dfc runs dfc with alice's dfc.conf.
func (r *rig) dfc(args ...string) testcluster.Result {
	r.t.Helper()
	return r.dfcWith(r.conf, "", args...)
}

// ok runs dfc with alice's dfc.conf and fails the test unless it exits 0.
func (r *rig) ok(args ...string) testcluster.Result {
	r.t.Helper()
	res := r.dfc(args...)
	if res.Code != 0 {
		r.t.Fatalf("dfc %v: exit %d\nstdout: %s\nstderr: %s", args, res.Code, res.Stdout, res.Stderr)
	}
	return res
}

// put stores data as name through dfc put.
func (r *rig) put(name string, data []byte) {
	r.t.Helper()
	src := filepath.Join(r.t.TempDir(), "src")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.ok("put", "-as", name, src)
}

// get fetches name whole through dfc get: its bytes, or nil and the
// failed run when dfc exits non-zero.
func (r *rig) get(name string) ([]byte, *testcluster.Result) {
	r.t.Helper()
	dst := filepath.Join(r.t.TempDir(), "dst")
	res := r.dfc("get", name, dst)
	if res.Code != 0 {
		return nil, &res
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		r.t.Fatalf("dfc get %s exited 0 without the file: %v", name, err)
	}
	return b, nil
}

// mustGet checks that dfc get returns want.
func (r *rig) mustGet(name string, want []byte) {
	r.t.Helper()
	got, fail := r.get(name)
	if fail != nil {
		r.t.Fatalf("dfc get %s: exit %d: %s", name, fail.Code, fail.Stderr)
	}
	if !bytes.Equal(got, want) {
		r.t.Fatalf("dfc get %s: %d bytes that are not the %d put", name, len(got), len(want))
	}
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
