//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"dfs/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// requireFuse skips a test without /dev/fuse, or fails it under
// DFS_REQUIRE_FUSE=1 (CI).
func requireFuse(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		if os.Getenv("DFS_REQUIRE_FUSE") == "1" {
			t.Fatal(err)
		}
		t.Skip("no /dev/fuse")
	}
}

// requireRoot skips a test that needs root (mount namespaces, setpriv),
// or fails it under DFS_REQUIRE_FUSE=1, since CI runs as root.
func requireRoot(t *testing.T, tools ...string) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "not root"
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			why = tool + " is missing"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("DFS_REQUIRE_FUSE") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// mounted reports whether anything is mounted at mp.
func mounted(t *testing.T, mp string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == mp {
			return true
		}
	}
	return false
}

// dfsmount runs the built dfsmount with args and returns its exit status
// and output.
func dfsmount(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DFS_PASSWORD=Crimson33")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// TestMountFailures: each reason a mount cannot be made is said on the
// terminal in words of its own, with exit status 1 and nothing mounted; a
// node down at mount time is a warning on the terminal, and the mount is
// made.
func TestMountFailures(t *testing.T) {
	requireFuse(t)
	c := testcluster.Start(t)
	tmp := t.TempDir()
	bin := testcluster.Binary(t, "dfsmount")
	conf := filepath.Join(tmp, "dfc.conf")
	c.WriteClientConf(t, conf, "alice", "Crimson33")
	cache := filepath.Join(tmp, "cache")
	mp := filepath.Join(tmp, "mnt")
	os.Mkdir(mp, 0o755)
	file := filepath.Join(tmp, "file")
	os.WriteFile(file, nil, 0o644)

	for _, tc := range []struct{ mp, want string }{
		{filepath.Join(tmp, "missing"), "mountpoint " + filepath.Join(tmp, "missing") + " does not exist"},
		{file, "mountpoint " + file + " is a regular file, not a folder"},
	} {
		code, out := dfsmount(t, bin, "-conf", conf, "-cache", cache, tc.mp)
		if code != 1 || !strings.Contains(out, tc.want) || strings.Contains(out, "fusermount") {
			t.Errorf("mount on %s: status %d, %q; want 1 and %q", tc.mp, code, out, tc.want)
		}
		if mounted(t, tc.mp) {
			t.Errorf("%s is mounted after the failure", tc.mp)
			exec.Command("umount", "-l", tc.mp).Run()
		}
	}

	// Already mounted, and a node down at mount time.
	c.Stop(1)
	code, out := dfsmount(t, bin, "-conf", conf, "-cache", cache, mp)
	if code != 0 || !strings.Contains(out, "dfsmount: warning: DFS2 ("+c.Addr(1)+") is down") || !strings.Contains(out, ".dfs-status") {
		t.Fatalf("mount with DFS2 down: status %d, %q; want 0 and a warning", code, out)
	}
	t.Cleanup(func() { exec.Command("umount", mp).Run() })
	if b, err := os.ReadFile(filepath.Join(mp, ".dfs-status")); err != nil || !strings.Contains(string(b), "state: degraded") {
		t.Errorf("status file with DFS2 down: %q, %v", b, err)
	}
	code, out = dfsmount(t, bin, "-conf", conf, "-cache", cache, mp)
	if want := mp + " is already mounted (fuse.dfs"; code != 1 || !strings.Contains(out, want) {
		t.Errorf("second mount: status %d, %q; want 1 and %q", code, out, want)
	}
	if err := exec.Command("umount", mp).Run(); err != nil {
		t.Fatal(err)
	}
	if mounted(t, mp) {
		t.Fatal("still mounted")
	}
}

// TestFuseDenied: a user who may not open /dev/fuse is told so. The test
// takes /dev/fuse away only inside a mount namespace of its own, by binding
// an unreadable file over it, and runs dfsmount there as nobody.
func TestFuseDenied(t *testing.T) {
	requireFuse(t)
	requireRoot(t, "unshare", "setpriv")
	tmp := t.TempDir()
	os.Chmod(tmp, 0o755)
	os.Chmod(filepath.Dir(tmp), 0o755)
	bin := testcluster.Binary(t, "dfsmount")
	// nobody must reach the binary: copy it next to the mountpoint.
	nbin := filepath.Join(tmp, "dfsmount")
	if b, err := os.ReadFile(bin); err != nil || os.WriteFile(nbin, b, 0o755) != nil {
		t.Fatal(err)
	}
	mp := filepath.Join(tmp, "mnt")
	os.Mkdir(mp, 0o777)
	denied := filepath.Join(tmp, "nofuse")
	os.WriteFile(denied, nil, 0)
	script := `mount --bind "$1" /dev/fuse && exec setpriv --reuid=65534 --regid=65534 --clear-groups "$2" -cache "$3" "$4"`
	out, err := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
		denied, nbin, filepath.Join(tmp, "cache"), mp).CombinedOutput()
	want := "dfsmount: cannot open /dev/fuse: permission denied"
	if err == nil || !strings.Contains(string(out), want) {
		t.Errorf("%v, %q; want %q", err, out, want)
	}
}
