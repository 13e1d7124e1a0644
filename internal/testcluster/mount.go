package testcluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Mount runs the dfsmount binary in the background, as a user would, with
// the dfc.conf at confPath and password, on a new mount point with a new
// cache folder (a fresh mount: nothing cached), and unmounts it when the
// test ends (or earlier through the returned function, which may be called
// again). It skips the test when this machine cannot mount, and fails it
// instead with DFS_REQUIRE_FUSE=1 (CI).
func Mount(t testing.TB, confPath, password string) (mp string, unmount func()) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		if os.Getenv("DFS_REQUIRE_FUSE") == "1" {
			t.Fatalf("FUSE required (DFS_REQUIRE_FUSE=1): %v", err)
		}
		t.Skipf("skipping FUSE test: %v", err)
	}
	dir := t.TempDir()
	mp = filepath.Join(dir, "mnt")
	if err := os.Mkdir(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := Command(Binary(t, "dfsmount"), dir, "-conf", confPath, "-cache", filepath.Join(dir, "cache"), mp)
	cmd.Env = append(cmd.Env, "DFS_PASSWORD="+password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dfsmount: %v\n%s", err, out)
	}
	done := false
	unmount = func() {
		if done {
			return
		}
		done = true
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "cache", "dfsmount.log"))
			t.Logf("dfsmount log of %s:\n%s", mp, log)
		}
		if out, err := exec.Command("umount", mp).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v: %s; detaching it", mp, err, out)
			exec.Command("umount", "-l", mp).Run()
		}
		for i := 0; mounted(mp) && i < 100; i++ {
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Cleanup(unmount)
	return mp, unmount
}

// mounted reports whether something is mounted at mp.
func mounted(mp string) bool {
	b, _ := os.ReadFile("/proc/self/mounts")
	return strings.Contains(string(b), " "+mp+" ")
}
