//go:build linux

package mount

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestAllowOther: with allow_other and default_permissions other local
// users get in, and the kernel checks the stored modes and owners; without
// allow_other only the mounting user does.
func TestAllowOther(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to act as another user")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		skipNoFuse(t, "setpriv is not installed")
	}
	c, _, plain := setup(t)
	opts := testOptions(t)
	opts.AllowOther, opts.DefaultPermissions = true, true
	shared := mountOptsT(t, c.Client(t, "alice", "Crimson33"), opts)
	for _, d := range []string{filepath.Dir(shared), filepath.Dir(plain)} {
		if err := os.Chmod(d, 0o755); err != nil { // a test's temporary folder is 0700
			t.Fatal(err)
		}
	}
	f := filepath.Join(shared, "f")
	if err := os.WriteFile(f, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	asNobody := func(p string) error {
		out, err := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", p).CombinedOutput()
		t.Logf("as uid 65534: cat %s: %s", p, out)
		return err
	}
	if err := asNobody(f); err == nil {
		t.Error("uid 65534 read a 0600 file of root's")
	}
	if err := os.Chmod(f, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := asNobody(f); err != nil {
		t.Errorf("uid 65534 reading a 0644 file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(plain, "g"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := asNobody(filepath.Join(plain, "g")); err == nil {
		t.Error("uid 65534 got into a mount without allow_other")
	}
}
