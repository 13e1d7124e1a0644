//go:build linux

package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"dfs/internal/testcluster"
)

// TestNotify runs dfsmount as the units in docs/systemd do (-f, Type=notify):
// it sends READY=1 once the mount is usable, and on SIGTERM STOPPING=1,
// unmounts and exits 0.
func TestNotify(t *testing.T) {
	requireFuse(t)
	c := testcluster.Start(t)
	tmp := t.TempDir()
	conf := filepath.Join(tmp, "dfc.conf")
	c.WriteClientConf(t, conf, "alice", "Crimson33")
	mp := filepath.Join(tmp, "mnt")
	os.Mkdir(mp, 0o755)
	sock := filepath.Join(tmp, "notify")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command(testcluster.Binary(t, "dfsmount"), "-f", "-o", "conf="+conf+",cache="+filepath.Join(tmp, "cache"), mp)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); exec.Command("umount", "-l", mp).Run() })
	recv := func() string {
		t.Helper()
		ln.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 4096)
		n, err := ln.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v\n%s", err, out.String())
		}
		return string(buf[:n])
	}
	if msg := recv(); !strings.HasPrefix(msg, "READY=1\n") {
		t.Fatalf("first notification %q", msg)
	}
	if !mounted(t, mp) {
		t.Fatal("READY=1 before the mount")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if msg := recv(); msg != "STOPPING=1" {
		t.Fatalf("on SIGTERM: %q", msg)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, out.String())
	}
	if mounted(t, mp) {
		t.Fatal("still mounted after SIGTERM")
	}
}

// TestSystemdUnits checks the units in docs/systemd with systemd-analyze
// verify (unknown keys, bad values, a missing ExecStart binary), with the
// built dfsmount standing in for /usr/local/bin/dfsmount.
func TestSystemdUnits(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("no systemd-analyze")
	}
	bin := testcluster.Binary(t, "dfsmount")
	tmp := t.TempDir()
	for _, tc := range []struct{ name, mode string }{{"dfsmount.service", "--system"}, {"dfsmount-user.service", "--user"}} {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", "systemd", tc.name))
		if err != nil {
			t.Fatal(err)
		}
		unit := filepath.Join(tmp, tc.name)
		if err := os.WriteFile(unit, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/dfsmount", bin)), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("systemd-analyze", tc.mode, "verify", unit)
		rt := filepath.Join(tmp, "run")
		os.Mkdir(rt, 0o700)
		cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+rt) // a user manager needs one
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", tc.name, err, out)
		}
	}
}
