//go:build linux

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"dfs/conf"
	"dfs/internal/testcluster"
)

// TestDaemon builds dfsmount, mounts in the background, uses the mount,
// and unmounts with SIGTERM; a wrong password fails with nothing mounted;
// the keys of nodes without a pin are pinned with a warning; a password
// that does not open the user's key (an operator's reset) fails likewise.
func TestDaemon(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		if os.Getenv("DFS_REQUIRE_FUSE") == "1" {
			t.Fatal(err)
		}
		t.Skip("no /dev/fuse")
	}
	c := testcluster.Start(t)
	tmp := t.TempDir()
	bin := testcluster.Binary(t, "dfsmount")
	confPath := filepath.Join(tmp, "dfc.conf")
	c.WriteClientConf(t, confPath, "alice", "Crimson33")
	mp, cache := filepath.Join(tmp, "mnt"), filepath.Join(tmp, "cache")
	os.Mkdir(mp, 0o755)

	bad := exec.Command(bin, "-conf", confPath, "-cache", cache, mp)
	bad.Env = append(os.Environ(), "DFS_PASSWORD=wrong")
	out, err := bad.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Invalid Username/Password") {
		t.Fatalf("wrong password: %v: %s", err, out)
	}

	// First contact without a terminal: the keys are pinned before the
	// mount goes to the background, with a warning on stderr and in the
	// log.
	unpinned := ""
	for _, a := range c.Nodes() {
		unpinned += "Server " + a.Name + " " + a.Addr + "\n"
	}
	if err := os.WriteFile(confPath, []byte(unpinned+"Username: alice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := exec.Command(bin, "-conf", confPath, "-cache", cache, mp)
	good.Env = append(os.Environ(), "DFS_PASSWORD=Crimson33")
	out, err = good.CombinedOutput()
	if err != nil {
		t.Fatalf("mount: %v: %s", err, out)
	}
	pinned, _ := os.ReadFile(confPath)
	log, _ := os.ReadFile(filepath.Join(cache, "dfsmount.log"))
	for _, a := range c.Nodes() {
		if !strings.Contains(string(out), "warning: first contact with "+a.Name) || !strings.Contains(string(pinned), a.Pin) ||
			!strings.Contains(string(log), "first contact: pinned the key") || !strings.Contains(string(log), a.Pin) {
			t.Errorf("first contact with %s: stderr, dfc.conf or log lacks it:\n%s\n%s\n%s", a.Name, out, pinned, log)
		}
	}
	if err := os.WriteFile(filepath.Join(mp, "hello"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(mp, "hello")); err != nil || string(b) != "hi" {
		t.Fatalf("read back %q, %v", b, err)
	}
	pid := strings.TrimSpace(runOut(t, "pgrep", "-f", "-n", "^"+bin))
	runOut(t, "kill", "-TERM", pid)
	for i := 0; ; i++ {
		if m, _ := os.ReadFile("/proc/self/mounts"); !strings.Contains(string(m), mp) {
			break
		}
		if i == 100 {
			t.Fatal("still mounted 10s after SIGTERM")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(cache, "dfsmount.log")); err != nil {
		t.Fatal(err)
	}

	// A daemon killed with SIGKILL leaves a stale mount point ("transport
	// endpoint is not connected"); the next mount cleans it up.
	again := exec.Command(bin, "-conf", confPath, "-cache", cache, mp)
	again.Env = append(os.Environ(), "DFS_PASSWORD=Crimson33")
	if out, err := again.CombinedOutput(); err != nil {
		t.Fatalf("second mount: %v: %s", err, out)
	}
	pid = strings.TrimSpace(runOut(t, "pgrep", "-f", "-n", "^"+bin))
	runOut(t, "kill", "-KILL", pid)
	for i := 0; ; i++ {
		if _, err := os.Stat(mp); errors.Is(err, syscall.ENOTCONN) {
			break
		}
		if i == 100 {
			t.Fatal("no stale mount after SIGKILL")
		}
		time.Sleep(100 * time.Millisecond)
	}
	third := exec.Command(bin, "-conf", confPath, "-cache", cache, mp)
	third.Env = append(os.Environ(), "DFS_PASSWORD=Crimson33")
	if out, err := third.CombinedOutput(); err != nil {
		t.Fatalf("mount over a stale mount point: %v: %s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(mp, "hello")); err != nil || string(b) != "hi" {
		t.Fatalf("after remount: %q, %v", b, err)
	}
	runOut(t, "umount", mp)

	// An operator's reset (dfsnode user passwd on every node): the nodes
	// take the new password, which does not open alice's key: a clear
	// message at mount time and nothing mounted.
	for n := range 4 {
		if err := conf.SetPassword(c.NodeConfPath(n), "alice", "Reset by op 1"); err != nil {
			t.Fatal(err)
		}
	}
	locked := exec.Command(bin, "-conf", confPath, "-cache", cache, mp)
	locked.Env = append(os.Environ(), "DFS_PASSWORD=Reset by op 1")
	out, err = locked.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "locked with another password") {
		t.Fatalf("password reset by an operator: %v: %s", err, out)
	}
	if m, _ := os.ReadFile("/proc/self/mounts"); strings.Contains(string(m), mp) {
		t.Fatal("mounted with a password that does not open the key")
	}

	// No node reachable: a clear message and nothing mounted.
	for n := 0; n < 4; n++ {
		c.Stop(n)
	}
	none := exec.Command(bin, "-conf", confPath, "-cache", cache, mp)
	none.Env = append(os.Environ(), "DFS_PASSWORD=Crimson33")
	out, err = none.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no node reachable") {
		t.Fatalf("no node up: %v: %s", err, out)
	}
	if m, _ := os.ReadFile("/proc/self/mounts"); strings.Contains(string(m), mp) {
		t.Fatal("mounted although no node is reachable")
	}
}

func runOut(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
	return string(out)
}
