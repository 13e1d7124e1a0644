package main

// End-to-end tests: each test that needs nodes starts four dfsnode
// processes (testcluster.Processes), and the tests run the dfc binary,
// built with -race when they are, against them.

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dfs/core"
	"dfs/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// dfc runs the dfc binary in dir with stdin and the given arguments.
func dfc(t *testing.T, dir, stdin string, args ...string) testcluster.Result {
	t.Helper()
	return testcluster.Run(t, testcluster.Command(testcluster.RaceBinary(t, "dfc"), dir, args...), stdin)
}

// cluster is one test's four dfsnode processes and Alice's dfc.conf.
type cluster struct {
	*testcluster.Cluster
	t        *testing.T
	confPath string // dfc.conf for Alice
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{Cluster: testcluster.Start(t, testcluster.Processes()), t: t,
		confPath: filepath.Join(t.TempDir(), "dfc.conf")}
	c.WriteClientConf(t, c.confPath, "alice", testcluster.Users["alice"])
	return c
}

// ok runs dfc -conf confPath ARGS and fails the test unless it exits 0.
func (c *cluster) ok(dir string, args ...string) testcluster.Result {
	c.t.Helper()
	r := dfc(c.t, dir, "", append([]string{"-conf", c.confPath}, args...)...)
	if r.Code != 0 {
		c.t.Fatalf("dfc %v: exit %d\nstdout: %s\nstderr: %s", args, r.Code, r.Stdout, r.Stderr)
	}
	return r
}

func randomFile(t *testing.T, path string, size int) []byte {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	return data
}

func sameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the %d put", path, len(got), len(want))
	}
}

// noBar checks that no progress bar went into a pipe.
func noBar(t *testing.T, r testcluster.Result) {
	t.Helper()
	if strings.ContainsAny(r.Stderr, "\r█▌") || strings.Contains(r.Stderr, "B/s") {
		t.Errorf("progress bar drawn into a pipe: %q", r.Stderr)
	}
}

func TestPutGetRoundTrip(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "big.bin")
	data := randomFile(t, src, 5<<20+123)
	mtime := time.Date(2021, 3, 4, 5, 6, 7, 0, time.Local)
	if err := os.Chtimes(src, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	r := c.ok(dir, "put", src)
	noBar(t, r)
	if !strings.Contains(r.Stdout, "stored big.bin") {
		t.Errorf("put said %q", r.Stdout)
	}

	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	r = c.ok(dir, "get", "big.bin", out) // a folder DEST gets the base name inside
	noBar(t, r)
	got := filepath.Join(out, "big.bin")
	sameFile(t, got, data)
	st, err := os.Stat(got)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 || !st.ModTime().Equal(mtime) {
		t.Errorf("got mode %v mtime %v, want 0640 %v", st.Mode().Perm(), st.ModTime(), mtime)
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 1 {
		t.Errorf("leftover files in %s: %v", out, ents)
	}

	// Default DEST: the base name in the current folder; flags after the command.
	sub := t.TempDir()
	c.ok(sub, "get", "big.bin")
	sameFile(t, filepath.Join(sub, "big.bin"), data)

	r = c.ok(dir, "list")
	want := fmt.Sprintf("%d  2021-03-04 05:06  big.bin", len(data))
	if !strings.Contains(r.Stdout, want) {
		t.Errorf("list: want a line with %q, got:\n%s", want, r.Stdout)
	}
}

func TestFlagsAfterCommand(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	data := randomFile(t, filepath.Join(dir, "f.txt"), 1000)
	r := dfc(t, dir, "", "put", "f.txt", "-as", "renamed.txt", "-conf", c.confPath)
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	r = dfc(t, dir, "", "get", "-conf", c.confPath, "renamed.txt", "copy.txt")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	sameFile(t, filepath.Join(dir, "copy.txt"), data)
}

func TestFolders(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	randomFile(t, filepath.Join(dir, "a.txt"), 10)
	randomFile(t, filepath.Join(dir, "b.txt"), 20)
	c.ok(dir, "mkdir", "docs")
	c.ok(dir, "put", "-to", "docs", "a.txt", "b.txt")
	r := c.ok(dir, "ls", "docs")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], " docs/") ||
		!strings.HasSuffix(lines[1], " docs/a.txt") || !strings.HasSuffix(lines[2], " docs/b.txt") {
		t.Errorf("ls docs:\n%s", r.Stdout)
	}
	r = dfc(t, dir, "", "-conf", c.confPath, "rm", "docs")
	if r.Code == 0 || !strings.Contains(r.Stderr, "not empty") {
		t.Errorf("rm of a full folder: exit %d, %q", r.Code, r.Stderr)
	}
	c.ok(dir, "rm", "docs/a.txt", "docs/b.txt", "docs")
	if r := c.ok(dir, "list", "docs"); r.Stdout != "" {
		t.Errorf("after rm: %q", r.Stdout)
	}
}

func TestRemove(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	randomFile(t, filepath.Join(dir, "gone.txt"), 100)
	c.ok(dir, "put", "gone.txt")
	if r := c.ok(dir, "list"); !strings.Contains(r.Stdout, " gone.txt") {
		t.Fatalf("list after put:\n%s", r.Stdout)
	}
	c.ok(dir, "rm", "gone.txt")
	if r := c.ok(dir, "list"); strings.Contains(r.Stdout, "gone.txt") {
		t.Errorf("list after rm:\n%s", r.Stdout)
	}
	r := dfc(t, dir, "", "-conf", c.confPath, "rm", "gone.txt")
	if r.Code != 1 || !strings.Contains(r.Stderr, "no such file") {
		t.Errorf("rm of a missing file: exit %d, %q", r.Code, r.Stderr)
	}
	r = dfc(t, dir, "", "-conf", c.confPath, "get", "gone.txt")
	if r.Code != 1 || !strings.Contains(r.Stderr, "no such file") {
		t.Errorf("get of a missing file: exit %d, %q", r.Code, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "gone.txt")); err != nil {
		t.Errorf("a failed get touched the local file: %v", err)
	}
}

func TestWrongPassword(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	data, _ := os.ReadFile(c.confPath)
	os.WriteFile(bad, bytes.Replace(data, []byte("Crimson33"), []byte("Crimson34"), 1), 0o600)
	for _, args := range [][]string{{"list"}, {"put", bad}, {"get", "x"}} {
		r := dfc(t, dir, "", append([]string{"-conf", bad}, args...)...)
		if r.Code != 1 || r.Stderr != "Invalid Username/Password. Please try again.\n" {
			t.Errorf("%v: exit %d, stderr %q", args, r.Code, r.Stderr)
		}
	}
	// Interactive: the session does not start.
	r := dfc(t, dir, "LIST\n", "-conf", bad)
	if r.Code != 1 || r.Stderr != "Invalid Username/Password. Please try again.\n" {
		t.Errorf("interactive: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

func TestNoNodeReachable(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	for n := 0; n < 4; n++ {
		c.Kill(n) // nothing listens at their addresses now
	}
	for _, args := range [][]string{{"list"}, {"get", "x"}, {}} {
		r := dfc(t, dir, "", append([]string{"-conf", c.confPath}, args...)...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "no node reachable") || r.Took > 2*time.Second {
			t.Errorf("%v: exit %d after %v, stderr %q", args, r.Code, r.Took, r.Stderr)
		}
	}
}

func TestInteractive(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	data := randomFile(t, filepath.Join(dir, "x"), 3000)
	// The seed's form: "dfc dfc.conf" with the conf in the current folder.
	conf, _ := os.ReadFile(c.confPath)
	os.WriteFile(filepath.Join(dir, "dfc.conf"), conf, 0o600)
	in := "PUT x\nLIST\nbogus\n\nget x y\nGET nosuch\nexit\nLIST\n"
	r := dfc(t, dir, in, "dfc.conf")
	if r.Code != 1 { // bogus and GET nosuch failed
		t.Errorf("exit %d, want 1", r.Code)
	}
	if !strings.Contains(r.Stdout, "stored x") || !strings.Contains(r.Stdout, "  x\n") || strings.Count(r.Stdout, "  x\n") != 1 {
		t.Errorf("stdout:\n%s", r.Stdout)
	}
	if !strings.Contains(r.Stderr, `unknown command "bogus"`) || !strings.Contains(r.Stderr, "nosuch") {
		t.Errorf("stderr:\n%s", r.Stderr)
	}
	sameFile(t, filepath.Join(dir, "y"), data)

	// No command and no conf argument: the prompt too; EOF ends it.
	r = dfc(t, dir, "QUIT\n", "-conf", c.confPath)
	if r.Code != 0 {
		t.Errorf("quit: exit %d: %s", r.Code, r.Stderr)
	}
	r = dfc(t, dir, "ls\n", "-conf", c.confPath)
	if r.Code != 0 || !strings.Contains(r.Stdout, "  x\n") {
		t.Errorf("EOF: exit %d: %s %s", r.Code, r.Stdout, r.Stderr)
	}
}

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"frobnicate"}, {"put"}, {"get"}, {"get", "a", "b", "c"}, {"put", "-nope", "x"}, {"-nope"}} {
		r := dfc(t, dir, "", append([]string{"-conf", filepath.Join(dir, "dfc.conf")}, args...)...)
		if r.Code != 2 || !strings.Contains(r.Stderr, "usage:") {
			t.Errorf("%v: exit %d, stderr %q", args, r.Code, r.Stderr)
		}
	}
	if r := dfc(t, dir, "", "help"); r.Code != 0 || !strings.Contains(r.Stdout, "put") {
		t.Errorf("help: exit %d", r.Code)
	}
}

func TestPutMissingFile(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	randomFile(t, filepath.Join(dir, "there"), 10)
	r := dfc(t, dir, "", "-conf", c.confPath, "put", "nothere", "there")
	if r.Code != 1 || !strings.Contains(r.Stderr, "dfc: put nothere: ") || !strings.Contains(r.Stdout, "stored there") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

// TestPutTooLarge: a local file past core.MaxFileSize (sparse here) is
// refused with a clear message before anything is sent; the next file
// is stored.
func TestPutTooLarge(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "vm.img"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(core.MaxFileSize + 1); err != nil {
		f.Close()
		t.Skipf("no sparse file of 256 GiB here: %v", err)
	}
	f.Close()
	randomFile(t, filepath.Join(dir, "small"), 10)
	r := dfc(t, dir, "", "-conf", c.confPath, "put", "vm.img", "small")
	if r.Code != 1 || !strings.Contains(r.Stderr, "dfc: put vm.img: vm.img: file too large: dfs stores files up to 256 GiB") ||
		!strings.Contains(r.Stdout, "stored small") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

func TestPasswd(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	bob := filepath.Join(dir, "bob.conf")
	c.WriteClientConf(t, bob, "bob", testcluster.Users["bob"])
	os.Chmod(bob, 0o640) // a group may read it: the rewrite keeps that
	r := dfc(t, dir, "Velvet77\nVelvet88\n", "-conf", bob, "passwd")
	if r.Code != 0 {
		t.Fatalf("passwd: exit %d: %s", r.Code, r.Stderr)
	}
	// The conf's Password line now has the new password, its mode kept.
	if b, _ := os.ReadFile(bob); !strings.Contains(string(b), "\nPassword: Velvet88\n") || strings.Contains(string(b), "Velvet77") {
		t.Errorf("conf after passwd:\n%s", b)
	}
	if st, err := os.Stat(bob); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("conf mode after passwd: %v %v", st.Mode(), err)
	}
	if r = dfc(t, dir, "", "-conf", bob, "list"); r.Code != 0 {
		t.Errorf("list with the rewritten conf: %d %q", r.Code, r.Stderr)
	}
	// With the old password (from the environment), refused now.
	cmd := testcluster.Command(testcluster.RaceBinary(t, "dfc"), dir, "-conf", bob, "list")
	cmd.Env = append(cmd.Env, "DFS_PASSWORD=Velvet77")
	if r = testcluster.Run(t, cmd, ""); r.Code != 1 || !strings.Contains(r.Stderr, "Invalid Username/Password. Please try again.\n") {
		t.Errorf("old password after passwd: %q", r.Stderr)
	}
	r = dfc(t, dir, "Velvet88\nVelvet77\n", "-conf", bob, "passwd")
	if r.Code != 0 {
		t.Fatalf("passwd back: exit %d: %s", r.Code, r.Stderr)
	}
	r = dfc(t, dir, "wrong\nVelvet99\n", "-conf", bob, "passwd")
	if r.Code != 1 || r.Stderr != "Invalid Username/Password. Please try again.\n" {
		t.Errorf("passwd with a wrong old password: exit %d, %q", r.Code, r.Stderr)
	}
	c.ok(dir, "list") // Alice is untouched
	if r := dfc(t, dir, "", "-conf", bob, "list"); r.Code != 0 {
		t.Errorf("Bob after changing back: %s", r.Stderr)
	}
}

func TestOneNodeDown(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	data := randomFile(t, filepath.Join(dir, "one.bin"), 1<<20+7)
	c.Kill(2) // DFS3
	r := c.ok(dir, "put", "one.bin")
	if !strings.Contains(r.Stderr, "reduced redundancy") || !strings.Contains(r.Stderr, "DFS3 (127.0.0.1:") {
		t.Errorf("put with DFS3 down: stderr %q", r.Stderr)
	}
	r = c.ok(dir, "get", "one.bin", "back.bin")
	sameFile(t, filepath.Join(dir, "back.bin"), data)
	r = c.ok(dir, "list")
	if !strings.Contains(r.Stdout, "one.bin  [degraded]") || !strings.Contains(r.Stderr, "not answering: DFS3 (127.0.0.1:") {
		t.Errorf("list with DFS3 down:\n%s\n%s", r.Stdout, r.Stderr)
	}
}

func TestTwoAdjacentNodesDown(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	randomFile(t, filepath.Join(dir, "two.bin"), 2<<20)
	c.ok(dir, "put", "two.bin")
	c.Kill(0) // DFS1 and DFS2 share a chunk, whatever the placement
	c.Kill(1)
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	r := dfc(t, dir, "", "-conf", c.confPath, "get", "two.bin", out)
	if r.Code != 1 || !strings.Contains(r.Stderr, "Transfer failed") || !strings.Contains(r.Stderr, "chunk") {
		t.Errorf("get with DFS1+DFS2 down: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("files left after a failed get: %v", ents)
	}
	r = c.ok(dir, "list")
	if !strings.Contains(r.Stdout, "two.bin  [incomplete]") {
		t.Errorf("list:\n%s", r.Stdout)
	}
	// A put cannot place every chunk: refused, non-zero.
	r = dfc(t, dir, "", "-conf", c.confPath, "put", "two.bin")
	if r.Code != 1 || !strings.Contains(r.Stderr, "dfc: put two.bin: ") {
		t.Errorf("put with DFS1+DFS2 down: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

// TestStatusHealWhere: a put with a node down leaves a file at risk; once
// the node is back, heal restores it and status says all is safe.
func TestStatusHealWhere(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	randomFile(t, filepath.Join(dir, "risky.bin"), 300_000)
	c.Kill(1) // DFS2
	c.ok(dir, "put", "risky.bin")
	c.Restart(1)
	r := dfc(t, dir, "", "-conf", c.confPath, "status")
	if r.Code != 3 || !strings.Contains(r.Stdout, "if DFS2 died") && !strings.Contains(r.Stdout, "risky.bin") {
		t.Fatalf("status with a file at risk: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = c.ok(dir, "where", "risky.bin")
	if !strings.Contains(r.Stdout, "chunk 4") || !strings.Contains(r.Stdout, "good copies") {
		t.Errorf("where: %s", r.Stdout)
	}
	r = c.ok(dir, "heal")
	if !strings.Contains(r.Stdout, "chunk copies restored") {
		t.Errorf("heal: %s", r.Stdout)
	}
	r = c.ok(dir, "status")
	if !strings.Contains(r.Stdout, "files survive the loss of any one node") {
		t.Errorf("status after heal: %s", r.Stdout)
	}
}

// TestQuota: a put past the user's quota fails, exit 1, with the nodes'
// message; status shows each node's use against the quota, and "no quota"
// once the operator removes it.
func TestQuota(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	randomFile(t, filepath.Join(dir, "fits.bin"), 1<<20) // 512 KiB a node
	randomFile(t, filepath.Join(dir, "big.bin"), 4<<20)  // 2 MiB a node
	c.SetQuota("alice", "1M")
	c.ok(dir, "put", "fits.bin")
	r := dfc(t, dir, "", "-conf", c.confPath, "put", "big.bin")
	want := fmt.Sprintf("dfc: put big.bin: DFS1 (%s), DFS2 (%s), DFS3 (%s), DFS4 (%s): over quota: using 512.2 KiB of 1.0 MiB, "+
		"no room for 1.0 MiB more; remove files or ask the operator to raise it; the file was not stored; the previous version, if any, is unchanged\n",
		c.Addr(0), c.Addr(1), c.Addr(2), c.Addr(3))
	if r.Code != 1 || r.Stderr != want {
		t.Errorf("put over quota: exit %d, stderr %q", r.Code, r.Stderr)
	}
	r = c.ok(dir, "status")
	if n := strings.Count(r.Stdout, "you use 512.2 KiB of your 1.0 MiB quota (50%)"); n != 4 {
		t.Errorf("status shows the quota of %d nodes:\n%s", n, r.Stdout)
	}
	c.SetQuota("alice", "none")
	c.ok(dir, "put", "big.bin")
	r = c.ok(dir, "status")
	if n := strings.Count(r.Stdout, "you use 2.5 MiB (no quota)"); n != 4 {
		t.Errorf("status without a quota:\n%s", r.Stdout)
	}
}
