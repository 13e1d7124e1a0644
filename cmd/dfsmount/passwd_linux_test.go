package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"dfs/internal/testcluster"
)

// lockedBuffer is a process's stderr read while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A running mount serves Prometheus metrics with -metrics, and follows
// dfc passwd: once the nodes refuse its old password (here at the logins
// after every node restarted), it reads the new one from dfc.conf, which
// dfc passwd rewrote, and carries on.
func TestMountFollowsPasswdAndServesMetrics(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		if os.Getenv("DFS_REQUIRE_FUSE") == "1" {
			t.Fatal(err)
		}
		t.Skip("no /dev/fuse")
	}
	c := testcluster.Start(t)
	tmp := t.TempDir()
	confPath := filepath.Join(tmp, "dfc.conf")
	c.WriteClientConf(t, confPath, "alice", "Crimson33")
	mp, cache := filepath.Join(tmp, "mnt"), filepath.Join(tmp, "cache")
	os.Mkdir(mp, 0o755)

	var log lockedBuffer
	cmd := exec.Command(testcluster.Binary(t, "dfsmount"), "-f", "-conf", confPath, "-cache", cache, "-metrics", "127.0.0.1:0", mp)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			exec.Command("umount", "-l", mp).Run()
		}
	})
	waitFor(t, 10*time.Second, "the mount", func() bool {
		m, _ := os.ReadFile("/proc/self/mounts")
		return strings.Contains(string(m), mp)
	}, &log)
	if err := os.WriteFile(filepath.Join(mp, "one"), []byte("before"), 0o644); err != nil {
		t.Fatal(err)
	}

	waitFor(t, 10*time.Second, "the mount's log", func() bool { return strings.Contains(log.String(), "msg=mounted") }, &log)
	url := regexp.MustCompile(`"serving metrics" url=(\S+)`).FindStringSubmatch(log.String())
	if url == nil {
		t.Fatalf("no metrics address in the log:\n%s", log.String())
	}
	resp, err := http.Get(url[1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `dfs_client_requests_total{node="DFS1",op="commit",result="ok"}`) {
		t.Errorf("metrics lack DFS1's commits:\n%s", body)
	}

	dfc := exec.Command(testcluster.Binary(t, "dfc"), "-conf", confPath, "passwd")
	dfc.Stdin = strings.NewReader("Crimson33\nCrimson44\n")
	if out, err := dfc.CombinedOutput(); err != nil || !strings.Contains(string(out), "new password written") {
		t.Fatalf("dfc passwd: %v\n%s", err, out)
	}
	for n := 0; n < 4; n++ {
		c.Restart(n) // the mount's connections go: it must log in again
	}
	waitFor(t, 10*time.Second, "a write after the password change", func() bool {
		return os.WriteFile(filepath.Join(mp, "two"), []byte("after"), 0o644) == nil
	}, &log)
	if b, err := os.ReadFile(filepath.Join(mp, "one")); err != nil || string(b) != "before" {
		t.Errorf("read after the password change: %q %v", b, err)
	}
	if s := log.String(); !strings.Contains(s, "read a new one from the configuration") || strings.Contains(s, "level=ERROR") {
		t.Errorf("mount log:\n%s", s)
	}
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool, log *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; log:\n%s", what, d, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
