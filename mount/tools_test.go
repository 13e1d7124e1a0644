//go:build linux

package mount

import (
	"bytes"
	"context"
	"crypto/rand"
	"dfs/core/client"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// run runs a command in dir (never inside the mount: the forked child
// would chdir into it before exec, blocking on a FUSE request while the
// test process forks) and fails the test with its output on error.
func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func randomFile(t *testing.T, path string, size int) []byte {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCopyLarge(t *testing.T) {
	t.Parallel()
	_, _, mp := setup(t)
	tmp := t.TempDir()
	src, back := filepath.Join(tmp, "src"), filepath.Join(tmp, "back")
	randomFile(t, src, 50<<20)
	run(t, tmp, "cp", src, filepath.Join(mp, "big"))
	run(t, tmp, "cp", filepath.Join(mp, "big"), back)
	run(t, tmp, "cmp", src, back)
	if fi, err := os.Stat(filepath.Join(mp, "big")); err != nil || fi.Size() != 50<<20 {
		t.Fatalf("stat: %v, %v", fi, err)
	}
}

func TestTar(t *testing.T) {
	t.Parallel()
	_, _, mp := setup(t)
	tmp := t.TempDir()
	src := filepath.Join(tmp, "tree")
	sizes := []int{0, 1, 3, 4095, 4096, 4097, 100000, 3 << 20}
	for i, dir := range []string{"", "a", "a/b", "a/b/c", "empty", "x y"} {
		os.MkdirAll(filepath.Join(src, dir), 0o755)
		if dir == "empty" {
			continue
		}
		for j := 0; j < 3; j++ {
			randomFile(t, filepath.Join(src, dir, fmt.Sprintf("f%d", j)), sizes[(i+j*3)%len(sizes)])
		}
	}
	run(t, tmp, "tar", "-cf", "tree.tar", "-C", src, ".")
	dst := filepath.Join(mp, "tree")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, tmp, "tar", "-xf", "tree.tar", "-C", dst)
	run(t, tmp, "diff", "-r", src, dst)
}

func TestGit(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	_, _, mp := setup(t)
	repo := filepath.Join(mp, "repo")
	os.Mkdir(repo, 0o755)
	git := func(args ...string) string {
		return run(t, "", "git", append([]string{"-C", repo, "-c", "user.email=alice@example.com", "-c", "user.name=Alice",
			"-c", "init.defaultBranch=main", "-c", "core.fsync=none"}, args...)...)
	}
	git("init", "-q")
	os.WriteFile(filepath.Join(repo, "hello.txt"), []byte("hello\n"), 0o644)
	os.MkdirAll(filepath.Join(repo, "sub"), 0o755)
	os.WriteFile(filepath.Join(repo, "sub", "x.go"), []byte("package x\n"), 0o644)
	git("add", ".")
	git("commit", "-q", "-m", "first")
	os.WriteFile(filepath.Join(repo, "hello.txt"), []byte("hello again\n"), 0o644)
	git("commit", "-q", "-am", "second")
	if log := git("log", "--oneline"); !strings.Contains(log, "first") || !strings.Contains(log, "second") {
		t.Fatalf("git log: %s", log)
	}
	if st := git("status", "--porcelain"); st != "" {
		t.Fatalf("git status not clean: %s", st)
	}
}

func TestShellTools(t *testing.T) {
	t.Parallel()
	_, _, mp := setup(t)
	at := func(name string) string { return filepath.Join(mp, name) }
	run(t, "", "mkdir", "-p", at("d/e/f"))
	run(t, "", "touch", at("d/e/f/t1"), at("d/e/t2"))
	run(t, "", "mv", at("d/e"), at("moved"))
	if _, err := os.Stat(filepath.Join(mp, "moved/f/t1")); err != nil {
		t.Fatal(err)
	}
	run(t, "", "touch", "-d", "2001-02-03 04:05:06", at("moved/t2"))
	fi, err := os.Stat(filepath.Join(mp, "moved/t2"))
	if err != nil || fi.ModTime().Year() != 2001 {
		t.Fatalf("touch -d: %v %v", fi, err)
	}
	run(t, "", "rm", "-r", at("moved"))
	if _, err := os.Stat(filepath.Join(mp, "moved")); !os.IsNotExist(err) {
		t.Fatalf("after rm -r: %v", err)
	}
	if out := run(t, "", "df", "-P", mp); !strings.Contains(out, "dfs") {
		t.Fatalf("df: %s", out)
	}
	run(t, "", "ln", "-s", "dangling", at("link"))
	if out := run(t, "", "readlink", at("link")); strings.TrimSpace(out) != "dangling" {
		t.Fatalf("readlink: %q", out)
	}
	if err := os.Link(filepath.Join(mp, "link"), filepath.Join(mp, "hard")); err == nil {
		t.Fatal("link succeeded")
	}
}

func readBack(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: got %d bytes %q..., want %d bytes %q...", path, len(got), head(got), len(want), head(want))
	}
}

func head(b []byte) []byte { return b[:min(len(b), 32)] }

func TestWriteModes(t *testing.T) {
	t.Parallel()
	_, _, mp := setup(t)
	fn := filepath.Join(mp, "f")
	os.WriteFile(fn, []byte("hello world"), 0o644)

	f, _ := os.OpenFile(fn, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte("!!"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	readBack(t, fn, []byte("hello world!!"))

	f, _ = os.OpenFile(fn, os.O_WRONLY, 0)
	f.WriteAt([]byte("J"), 6)
	f.Close()
	readBack(t, fn, []byte("hello Jorld!!"))

	f, _ = os.OpenFile(fn, os.O_WRONLY|os.O_TRUNC, 0)
	f.Write([]byte("new"))
	f.Close()
	readBack(t, fn, []byte("new"))

	if err := os.Truncate(fn, 6); err != nil {
		t.Fatal(err)
	}
	readBack(t, fn, []byte("new\x00\x00\x00"))
	if err := os.Truncate(fn, 2); err != nil {
		t.Fatal(err)
	}
	readBack(t, fn, []byte("ne"))

	// Sparse: write far past the end.
	sp := filepath.Join(mp, "sparse")
	f, _ = os.Create(sp)
	f.WriteAt([]byte("end"), 10<<20)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 10<<20+3)
	copy(want[10<<20:], "end")
	readBack(t, sp, want)

	// Two handles of one file see each other's writes; O_RDWR reads back.
	a, _ := os.OpenFile(fn, os.O_RDWR, 0)
	b, _ := os.OpenFile(fn, os.O_RDWR, 0)
	a.WriteAt([]byte("AB"), 0)
	buf := make([]byte, 2)
	if n, err := b.ReadAt(buf, 0); n != 2 || string(buf) != "AB" {
		t.Fatalf("second handle read %q, %v", buf[:n], err)
	}
	a.Close()
	b.Close()
	readBack(t, fn, []byte("AB"))
}

func TestSecondClient(t *testing.T) {
	t.Parallel()
	c, _, mp := setup(t)
	other := c.Client(t, "alice", "Crimson33")
	ctx := context.Background()
	want := randomFile(t, filepath.Join(mp, "from-mount"), 300000)
	got, err := os.Create(filepath.Join(t.TempDir(), "got"))
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if _, err := other.Get(ctx, "from-mount", got, nil); err != nil {
		t.Fatal(err)
	}
	readBack(t, got.Name(), want)
	for _, size := range []int{5000, 70000} { // a new file, then an overwrite
		data := make([]byte, size)
		rand.Read(data)
		if _, err := other.Put(ctx, "from-client", bytes.NewReader(data), int64(size), client.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1200 * time.Millisecond) // the kernel caches attributes for 1s
		readBack(t, filepath.Join(mp, "from-client"), data)
	}
}
