package main

// End-to-end tests: TestMain builds dfc and dfsnode, starts four dfsnode
// processes on free loopback ports with a dfs.conf made by "dfsnode user
// add", and the tests run the dfc binary against them.

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	binDir   string // built dfc and dfsnode
	rootDir  string // everything the tests make
	confPath string // dfc.conf for Alice
	cl       *cluster
)

func TestMain(m *testing.M) {
	code := 1
	func() {
		var err error
		rootDir, err = os.MkdirTemp("", "dfc-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
		defer os.RemoveAll(rootDir)
		binDir = filepath.Join(rootDir, "bin")
		if err := build(); err != nil {
			fmt.Fprintln(os.Stderr, "build:", err)
			return
		}
		cl = &cluster{dir: rootDir}
		defer cl.stopAll()
		if err := cl.setup(); err != nil {
			fmt.Fprintln(os.Stderr, "cluster:", err)
			return
		}
		code = m.Run()
	}()
	os.Exit(code)
}

func build() error {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	args := []string{"build", "-o", binDir + "/"}
	if raceEnabled {
		args = append(args, "-race") // the test binary only execs: race-check dfc itself
	}
	cmds := [][]string{append(args, "dfs/cmd/dfc"), {"build", "-o", binDir + "/", "dfs/cmd/dfsnode"}}
	for _, a := range cmds {
		cmd := exec.Command(goBin, a...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s: %v\n%s", strings.Join(a, " "), err, out)
		}
	}
	return nil
}

// cluster is four dfsnode processes.
type cluster struct {
	dir   string
	mu    sync.Mutex
	ports [4]int
	procs [4]*exec.Cmd
}

func (c *cluster) dataDir(n int) string { return filepath.Join(c.dir, fmt.Sprintf("DFS%d", n+1)) }

func (c *cluster) setup() error {
	serverConf := filepath.Join(c.dir, "dfs.conf")
	for _, u := range [][2]string{{"Alice", "Crimson33"}, {"Bob", "Velvet77"}} {
		cmd := exec.Command(filepath.Join(binDir, "dfsnode"), "user", "add", u[0], "-conf", serverConf)
		cmd.Stdin = strings.NewReader(u[1] + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("dfsnode user add %s: %v\n%s", u[0], err, out)
		}
	}
	// Each node gets its own copy, as the seed's servers did: with one shared
	// file, a password change by the first node would make the others refuse
	// the old password and client.Passwd would roll back.
	data, err := os.ReadFile(serverConf)
	if err != nil {
		return err
	}
	for n := range c.ports {
		if err := os.WriteFile(c.dataDir(n)+".conf", data, 0o600); err != nil {
			return err
		}
	}
	for n := range c.ports {
		p, err := freePort()
		if err != nil {
			return err
		}
		c.ports[n] = p
		if err := c.start(n); err != nil {
			return err
		}
	}
	var lines []string
	for n := range c.ports {
		out, err := exec.Command(filepath.Join(binDir, "dfsnode"), "fingerprint", c.dataDir(n)).Output()
		if err != nil {
			return fmt.Errorf("dfsnode fingerprint: %v", err)
		}
		lines = append(lines, fmt.Sprintf("Server DFS%d 127.0.0.1:%d %s", n+1, c.ports[n], strings.TrimSpace(string(out))))
	}
	confPath = filepath.Join(c.dir, "dfc.conf")
	if err := writeConf(confPath, lines, "Alice", "Crimson33"); err != nil {
		return err
	}
	return writeConf(filepath.Join(c.dir, "bob.conf"), lines, "Bob", "Velvet77")
}

func writeConf(path string, servers []string, user, pw string) error {
	s := strings.Join(servers, "\n") + "\nUsername: " + user + "\n"
	if pw != "" {
		s += "Password: " + pw + "\n"
	}
	return os.WriteFile(path, []byte(s), 0o600)
}

// start runs node n (again) and waits until its port accepts.
func (c *cluster) start(n int) error {
	if err := os.MkdirAll(c.dataDir(n), 0o700); err != nil {
		return err
	}
	log, err := os.OpenFile(c.dataDir(n)+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(filepath.Join(binDir, "dfsnode"), "-conf", c.dataDir(n)+".conf",
		c.dataDir(n), fmt.Sprint(c.ports[n]))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return err
	}
	c.mu.Lock()
	c.procs[n] = cmd
	c.mu.Unlock()
	addr := fmt.Sprintf("127.0.0.1:%d", c.ports[n])
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return nil
		}
	}
	logData, _ := os.ReadFile(c.dataDir(n) + ".log")
	return fmt.Errorf("DFS%d did not listen on %s:\n%s", n+1, addr, logData)
}

// kill stops node n with SIGKILL and waits for it.
func (c *cluster) kill(n int) {
	c.mu.Lock()
	cmd := c.procs[n]
	c.procs[n] = nil
	c.mu.Unlock()
	if cmd != nil {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

func (c *cluster) stopAll() {
	for n := range c.procs {
		c.kill(n)
	}
}

// down kills nodes for one test and restarts them when it ends.
func down(t *testing.T, nodes ...int) {
	t.Helper()
	for _, n := range nodes {
		cl.kill(n)
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			if err := cl.start(n); err != nil {
				t.Error(err)
			}
		}
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// result is one run of dfc.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// dfc runs the dfc binary in dir with stdin and the given arguments.
func dfc(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "dfc"), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DFS_CONF=", "DFS_PASSWORD=", "HOME="+dir)
	cmd.Env = withoutEnv(cmd.Env, "DFS_PASSWORD")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.stderr, "DATA RACE") {
		t.Errorf("race in dfc %v:\n%s", args, r.stderr)
	}
	return r
}

func withoutEnv(env []string, key string) []string {
	out := env[:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// ok runs dfc -conf confPath ARGS and fails the test unless it exits 0.
func ok(t *testing.T, dir string, args ...string) result {
	t.Helper()
	r := dfc(t, dir, "", append([]string{"-conf", confPath}, args...)...)
	if r.code != 0 {
		t.Fatalf("dfc %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
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
func noBar(t *testing.T, r result) {
	t.Helper()
	if strings.ContainsAny(r.stderr, "\r█▌") || strings.Contains(r.stderr, "B/s") {
		t.Errorf("progress bar drawn into a pipe: %q", r.stderr)
	}
}

func TestPutGetRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "big.bin")
	data := randomFile(t, src, 5<<20+123)
	mtime := time.Date(2021, 3, 4, 5, 6, 7, 0, time.Local)
	if err := os.Chtimes(src, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	r := ok(t, dir, "put", src)
	noBar(t, r)
	if !strings.Contains(r.stdout, "stored big.bin") {
		t.Errorf("put said %q", r.stdout)
	}

	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	r = ok(t, dir, "get", "big.bin", out) // a folder DEST gets the base name inside
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
	ok(t, sub, "get", "big.bin")
	sameFile(t, filepath.Join(sub, "big.bin"), data)

	r = ok(t, dir, "list")
	want := fmt.Sprintf("%d  2021-03-04 05:06  big.bin", len(data))
	if !strings.Contains(r.stdout, want) {
		t.Errorf("list: want a line with %q, got:\n%s", want, r.stdout)
	}
}

func TestFlagsAfterCommand(t *testing.T) {
	dir := t.TempDir()
	data := randomFile(t, filepath.Join(dir, "f.txt"), 1000)
	r := dfc(t, dir, "", "put", "f.txt", "-as", "renamed.txt", "-conf", confPath)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	r = dfc(t, dir, "", "get", "-conf", confPath, "renamed.txt", "copy.txt")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sameFile(t, filepath.Join(dir, "copy.txt"), data)
}

func TestFolders(t *testing.T) {
	dir := t.TempDir()
	randomFile(t, filepath.Join(dir, "a.txt"), 10)
	randomFile(t, filepath.Join(dir, "b.txt"), 20)
	ok(t, dir, "mkdir", "docs")
	ok(t, dir, "put", "-to", "docs", "a.txt", "b.txt")
	r := ok(t, dir, "ls", "docs")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], " docs/") ||
		!strings.HasSuffix(lines[1], " docs/a.txt") || !strings.HasSuffix(lines[2], " docs/b.txt") {
		t.Errorf("ls docs:\n%s", r.stdout)
	}
	r = dfc(t, dir, "", "-conf", confPath, "rm", "docs")
	if r.code == 0 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("rm of a full folder: exit %d, %q", r.code, r.stderr)
	}
	ok(t, dir, "rm", "docs/a.txt", "docs/b.txt", "docs")
	if r := ok(t, dir, "list", "docs"); r.stdout != "" {
		t.Errorf("after rm: %q", r.stdout)
	}
}

func TestRemove(t *testing.T) {
	dir := t.TempDir()
	randomFile(t, filepath.Join(dir, "gone.txt"), 100)
	ok(t, dir, "put", "gone.txt")
	if r := ok(t, dir, "list"); !strings.Contains(r.stdout, " gone.txt") {
		t.Fatalf("list after put:\n%s", r.stdout)
	}
	ok(t, dir, "rm", "gone.txt")
	if r := ok(t, dir, "list"); strings.Contains(r.stdout, "gone.txt") {
		t.Errorf("list after rm:\n%s", r.stdout)
	}
	r := dfc(t, dir, "", "-conf", confPath, "rm", "gone.txt")
	if r.code != 1 || !strings.Contains(r.stderr, "no such file") {
		t.Errorf("rm of a missing file: exit %d, %q", r.code, r.stderr)
	}
	r = dfc(t, dir, "", "-conf", confPath, "get", "gone.txt")
	if r.code != 1 || !strings.Contains(r.stderr, "no such file") {
		t.Errorf("get of a missing file: exit %d, %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "gone.txt")); err != nil {
		t.Errorf("a failed get touched the local file: %v", err)
	}
}

func TestWrongPassword(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	data, _ := os.ReadFile(confPath)
	os.WriteFile(bad, bytes.Replace(data, []byte("Crimson33"), []byte("Crimson34"), 1), 0o600)
	for _, args := range [][]string{{"list"}, {"put", bad}, {"get", "x"}} {
		r := dfc(t, dir, "", append([]string{"-conf", bad}, args...)...)
		if r.code != 1 || r.stderr != "Invalid Username/Password. Please try again.\n" {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	// Interactive: the session does not start.
	r := dfc(t, dir, "LIST\n", "-conf", bad)
	if r.code != 1 || r.stderr != "Invalid Username/Password. Please try again.\n" {
		t.Errorf("interactive: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestNoNodeReachable(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for n := 0; n < 4; n++ {
		p, err := freePort() // closed again: nothing listens there
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("Server DFS%d 127.0.0.1:%d", n+1, p))
	}
	c := filepath.Join(dir, "dead.conf")
	writeConf(c, lines, "Alice", "Crimson33")
	for _, args := range [][]string{{"list"}, {"get", "x"}, {}} {
		r := dfc(t, dir, "", append([]string{"-conf", c}, args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, "no node reachable") || r.took > 2*time.Second {
			t.Errorf("%v: exit %d after %v, stderr %q", args, r.code, r.took, r.stderr)
		}
	}
}

func TestInteractive(t *testing.T) {
	dir := t.TempDir()
	data := randomFile(t, filepath.Join(dir, "x"), 3000)
	// The seed's form: "dfc dfc.conf" with the conf in the current folder.
	conf, _ := os.ReadFile(confPath)
	os.WriteFile(filepath.Join(dir, "dfc.conf"), conf, 0o600)
	in := "PUT x\nLIST\nbogus\n\nget x y\nGET nosuch\nexit\nLIST\n"
	r := dfc(t, dir, in, "dfc.conf")
	if r.code != 1 { // bogus and GET nosuch failed
		t.Errorf("exit %d, want 1", r.code)
	}
	if !strings.Contains(r.stdout, "stored x") || !strings.Contains(r.stdout, "  x\n") || strings.Count(r.stdout, "  x\n") != 1 {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, `unknown command "bogus"`) || !strings.Contains(r.stderr, "nosuch") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	sameFile(t, filepath.Join(dir, "y"), data)

	// No command and no conf argument: the prompt too; EOF ends it.
	r = dfc(t, dir, "QUIT\n", "-conf", confPath)
	if r.code != 0 {
		t.Errorf("quit: exit %d: %s", r.code, r.stderr)
	}
	r = dfc(t, dir, "ls\n", "-conf", confPath)
	if r.code != 0 || !strings.Contains(r.stdout, "  x\n") {
		t.Errorf("EOF: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"frobnicate"}, {"put"}, {"get"}, {"get", "a", "b", "c"}, {"put", "-nope", "x"}, {"-nope"}} {
		r := dfc(t, dir, "", append([]string{"-conf", confPath}, args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "usage:") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	if r := dfc(t, dir, "", "help"); r.code != 0 || !strings.Contains(r.stdout, "put") {
		t.Errorf("help: exit %d", r.code)
	}
}

func TestPutMissingFile(t *testing.T) {
	dir := t.TempDir()
	randomFile(t, filepath.Join(dir, "there"), 10)
	r := dfc(t, dir, "", "-conf", confPath, "put", "nothere", "there")
	if r.code != 1 || !strings.Contains(r.stderr, "dfc: put nothere: ") || !strings.Contains(r.stdout, "stored there") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestPasswd(t *testing.T) {
	dir := t.TempDir()
	bob := filepath.Join(cl.dir, "bob.conf")
	r := dfc(t, dir, "Velvet77\nVelvet88\n", "-conf", bob, "passwd")
	if r.code != 0 {
		t.Fatalf("passwd: exit %d: %s", r.code, r.stderr)
	}
	// The conf still has the old password: refused now.
	r = dfc(t, dir, "", "-conf", bob, "list")
	if r.stderr != "Invalid Username/Password. Please try again.\n" {
		t.Errorf("old password after passwd: %q", r.stderr)
	}
	r = dfc(t, dir, "Velvet88\nVelvet77\n", "-conf", bob, "passwd")
	if r.code != 0 {
		t.Fatalf("passwd back: exit %d: %s", r.code, r.stderr)
	}
	r = dfc(t, dir, "wrong\nVelvet99\n", "-conf", bob, "passwd")
	if r.code != 1 || r.stderr != "Invalid Username/Password. Please try again.\n" {
		t.Errorf("passwd with a wrong old password: exit %d, %q", r.code, r.stderr)
	}
	ok(t, dir, "list") // Alice is untouched
	if r := dfc(t, dir, "", "-conf", bob, "list"); r.code != 0 {
		t.Errorf("Bob after changing back: %s", r.stderr)
	}
}

// The tests below kill nodes; down restarts them when each ends.

func TestOneNodeDown(t *testing.T) {
	dir := t.TempDir()
	data := randomFile(t, filepath.Join(dir, "one.bin"), 1<<20+7)
	down(t, 2) // DFS3
	r := ok(t, dir, "put", "one.bin")
	if !strings.Contains(r.stderr, "reduced redundancy") || !strings.Contains(r.stderr, "DFS3 (127.0.0.1:") {
		t.Errorf("put with DFS3 down: stderr %q", r.stderr)
	}
	r = ok(t, dir, "get", "one.bin", "back.bin")
	sameFile(t, filepath.Join(dir, "back.bin"), data)
	r = ok(t, dir, "list")
	if !strings.Contains(r.stdout, "one.bin  [degraded]") || !strings.Contains(r.stderr, "not answering: DFS3 (127.0.0.1:") {
		t.Errorf("list with DFS3 down:\n%s\n%s", r.stdout, r.stderr)
	}
}

func TestTwoAdjacentNodesDown(t *testing.T) {
	dir := t.TempDir()
	randomFile(t, filepath.Join(dir, "two.bin"), 2<<20)
	ok(t, dir, "put", "two.bin")
	down(t, 0, 1) // DFS1 and DFS2 share a chunk, whatever the placement
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	r := dfc(t, dir, "", "-conf", confPath, "get", "two.bin", out)
	if r.code != 1 || !strings.Contains(r.stderr, "Transfer failed") || !strings.Contains(r.stderr, "chunk") {
		t.Errorf("get with DFS1+DFS2 down: exit %d, stderr %q", r.code, r.stderr)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("files left after a failed get: %v", ents)
	}
	r = ok(t, dir, "list")
	if !strings.Contains(r.stdout, "two.bin  [incomplete]") {
		t.Errorf("list:\n%s", r.stdout)
	}
	// A put cannot place every chunk: refused, non-zero.
	r = dfc(t, dir, "", "-conf", confPath, "put", "two.bin")
	if r.code != 1 || !strings.Contains(r.stderr, "dfc: put two.bin: ") {
		t.Errorf("put with DFS1+DFS2 down: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestStatusHealWhere: a put with a node down leaves a file at risk; once
// the node is back, heal restores it and status says all is safe.
func TestStatusHealWhere(t *testing.T) {
	dir := t.TempDir()
	randomFile(t, filepath.Join(dir, "risky.bin"), 300_000)
	cl.kill(1) // DFS2
	ok(t, dir, "put", "risky.bin")
	if err := cl.start(1); err != nil {
		t.Fatal(err)
	}
	r := dfc(t, dir, "", "-conf", confPath, "status")
	if r.code != 3 || !strings.Contains(r.stdout, "if DFS2 died") && !strings.Contains(r.stdout, "risky.bin") {
		t.Fatalf("status with a file at risk: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = ok(t, dir, "where", "risky.bin")
	if !strings.Contains(r.stdout, "chunk 4") || !strings.Contains(r.stdout, "good copies") {
		t.Errorf("where: %s", r.stdout)
	}
	r = ok(t, dir, "heal")
	if !strings.Contains(r.stdout, "chunk copies restored") {
		t.Errorf("heal: %s", r.stdout)
	}
	r = ok(t, dir, "status")
	if !strings.Contains(r.stdout, "files survive the loss of any one node") {
		t.Errorf("status after heal: %s", r.stdout)
	}
}
