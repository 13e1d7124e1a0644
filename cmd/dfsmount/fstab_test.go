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

// fstabScript runs in a mount namespace of the test's own, so that the
// binding below and the mounts are seen by nobody else. mount(8) runs
// helpers with a fixed PATH (/usr/local/sbin:/usr/local/bin:/usr/sbin:...),
// so dfsmount is put on it by binding the test's bin folder over
// /usr/local/sbin. Each check prints "FAIL: ..." when it fails; the last
// line is "DONE".
const fstabScript = `
bin=$1 fstab=$2 ro=$3 rw=$4
trap 'umount -l "$ro" "$rw" 2>/dev/null' EXIT
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
mount --bind "$bin" /usr/local/sbin || { echo "FAIL: bind $bin"; exit 1; }
mount -T "$fstab" -a || echo "FAIL: mount -a: status $?"
mountpoint -q "$ro" || echo "FAIL: mount -a did not mount the ro line"
mountpoint -q "$rw" && echo "FAIL: mount -a mounted the noauto line"
mount -T "$fstab" "$rw" || echo "FAIL: mount $rw: status $?"
mountpoint -q "$rw" || echo "FAIL: the noauto line did not mount by its mountpoint"
echo hello >"$rw/x" || echo "FAIL: write on the rw mount"
[ "$(cat "$ro/x")" = hello ] || echo "FAIL: the ro mount does not read x"
out=$(touch "$ro/y" 2>&1) && echo "FAIL: touch on the ro mount worked"
case $out in *"Read-only file system"*) ;; *) echo "FAIL: touch on the ro mount: $out" ;; esac
# allow_other (with default_permissions) on the ro line only.
[ "$(nobody cat "$ro/x" 2>&1)" = hello ] || echo "FAIL: nobody cannot read with allow_other: $(nobody cat "$ro/x" 2>&1)"
nobody stat "$rw/x" >/dev/null 2>&1 && echo "FAIL: nobody reads the mount without allow_other"
grep -q "^state: ok" "$ro/.dfs-status" || echo "FAIL: status: $(cat "$ro/.dfs-status")"
umount "$ro" || echo "FAIL: umount $ro"
umount "$rw" || echo "FAIL: umount $rw"
echo DONE
`

// TestFstab mounts through mount(8) and mount.fuse3 as /etc/fstab would:
// "mount -a" against a temporary fstab mounts the ro line with allow_other
// and skips the noauto one, which "mount MOUNTPOINT" mounts; _netdev and
// user pass. The ro mount refuses writes with EROFS, and another user (uid
// 65534) reads the allow_other mount and not the other.
func TestFstab(t *testing.T) {
	requireFuse(t)
	requireRoot(t, "unshare", "setpriv", "mount.fuse3")
	c := testcluster.Start(t)
	tmp := t.TempDir()
	// nobody must reach the mountpoints.
	os.Chmod(tmp, 0o755)
	os.Chmod(filepath.Dir(tmp), 0o755)
	bin := filepath.Join(tmp, "bin")
	os.Mkdir(bin, 0o755)
	if err := os.Symlink(testcluster.Binary(t, "dfsmount"), filepath.Join(bin, "dfsmount")); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(tmp, "dfc.conf")
	c.WriteClientConf(t, conf, "alice", "Crimson33")
	ro, rw := filepath.Join(tmp, "ro"), filepath.Join(tmp, "rw")
	os.Mkdir(ro, 0o755)
	os.Mkdir(rw, 0o755)
	fstab := filepath.Join(tmp, "fstab")
	lines := conf + " " + ro + " fuse.dfsmount _netdev,ro,allow_other,default_permissions,cache=" + filepath.Join(tmp, "c1") + " 0 0\n" +
		conf + " " + rw + " fuse.dfsmount _netdev,user,noauto,cache=" + filepath.Join(tmp, "c2") + " 0 0\n"
	if err := os.WriteFile(fstab, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", fstabScript, "sh", bin, fstab, ro, rw).CombinedOutput()
	if err != nil || strings.Contains(string(out), "FAIL") || !strings.Contains(string(out), "DONE") {
		t.Errorf("%v:\n%s", err, out)
	}
	for _, name := range []string{"c1", "c2"} {
		if b, _ := os.ReadFile(filepath.Join(tmp, name, "dfsmount.log")); t.Failed() {
			t.Logf("%s/dfsmount.log:\n%s", name, b)
		}
	}
}
