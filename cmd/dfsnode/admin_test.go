package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dfs/conf"
	"dfs/core/wire"
	"dfs/node"
	"dfs/node/store"
)

// A data folder held by a running node refuses a second dfsnode and an
// offline scrub, with a message saying why; once released, scrub runs.
func TestDataFolderLock(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(store.Config{Dir: dir}) // a data folder as a node leaves it
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	path := filepath.Join(t.TempDir(), "dfs.conf")
	if err := conf.AddUser(path, "alice", "Crimson33"); err != nil {
		t.Fatal(err)
	}
	unlock, err := node.LockDir(dir) // stands for the live node
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if rc := run([]string{"-conf", path, dir, "1"}, &out, &errb); rc != 1 || !strings.Contains(errb.String(), "data folder in use by process") {
		t.Errorf("second node: rc %d, %q", rc, errb.String())
	}
	errb.Reset()
	if rc := run([]string{"scrub", dir}, &out, &errb); rc != 1 || !strings.Contains(errb.String(), "in use") || !strings.Contains(errb.String(), "stopped node") {
		t.Errorf("scrub of a live folder: rc %d, %q", rc, errb.String())
	}
	unlock()
	errb.Reset()
	if rc := run([]string{"scrub", dir}, &out, &errb); rc != 0 {
		t.Errorf("scrub of a stopped folder: rc %d, %q", rc, errb.String())
	}
	if st, err := os.Stat(filepath.Join(dir, node.LockFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v %v", st, err)
	}
}

// "dfsnode -conf FILE user add NAME" takes its flags first, as README says
// every dfsnode command may; user list shows the users and their quotas; a
// short password is refused.
func TestUserFlagsFirstAndList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dfs.conf")
	if err := conf.AddUser(path, "alice", "Crimson33"); err != nil {
		t.Fatal(err)
	}
	if err := conf.SetQuota(path, "alice", 10<<30); err != nil {
		t.Fatal(err)
	}
	withStdin(t, "Velvet77\n")
	var out, errb bytes.Buffer
	if rc := run([]string{"-conf", path, "user", "add", "bob"}, &out, &errb); rc != 0 {
		t.Fatalf("-conf first: rc %d, %q", rc, errb.String())
	}
	withStdin(t, "short\n")
	errb.Reset()
	if rc := run([]string{"-conf", path, "user", "add", "eve"}, &out, &errb); rc != 1 || !strings.Contains(errb.String(), "at least 8") {
		t.Errorf("short password: rc %d, %q", rc, errb.String())
	}
	out.Reset()
	if rc := run([]string{"user", "list", "-conf", path}, &out, &errb); rc != 0 || out.String() != "alice\tquota 10G\nbob\tno quota\n" {
		t.Errorf("user list: rc %d, %q %q", rc, out.String(), errb.String())
	}
}

// fingerprint on a folder without a key says so and makes none.
func TestFingerprintNoKey(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if rc := run([]string{"fingerprint", dir}, &out, &errb); rc != 1 || !strings.Contains(errb.String(), "has no node key") {
		t.Errorf("no key: rc %d, %q", rc, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, wire.KeyFile)); !os.IsNotExist(err) {
		t.Errorf("a key was made: %v", err)
	}
	cert, err := wire.LoadOrCreateCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	fp, _ := wire.CertFingerprint(cert)
	out.Reset()
	if rc := run([]string{"fingerprint", dir}, &out, &errb); rc != 0 || strings.TrimSpace(out.String()) != fp {
		t.Errorf("fingerprint: rc %d, %q, want %s", rc, out.String(), fp)
	}
}

// withStdin makes os.Stdin a file holding s for the rest of the test.
func withStdin(t *testing.T, s string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = old; f.Close() })
}
