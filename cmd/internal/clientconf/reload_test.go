package clientconf

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"dfs/conf"
	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// syncBuffer is a log a client writes from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// loadClient is what dfsmount does: the conf at path, loaded into a
// long-lived client logging to log.
func loadClient(t *testing.T, path string, log *syncBuffer) *client.Client {
	t.Helper()
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Log = slog.New(slog.NewTextHandler(log, nil))
	return testcluster.NewClient(t, cfg)
}

// A running client whose password changed elsewhere (dfc passwd, which
// rewrites dfc.conf) reads the conf again and carries on; when the conf
// has no new password it logs one ERROR saying what to do and stops
// trying the refused password, until the conf has the new one.
func TestClientRereadsPassword(t *testing.T) {
	c := testcluster.Start(t)
	path := filepath.Join(t.TempDir(), "dfc.conf")
	c.WriteClientConf(t, path, "bob", testcluster.Users["bob"])
	var log syncBuffer
	mount := loadClient(t, path, &log)
	ctx := context.Background()
	if _, err := mount.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	other := c.Client(t, "bob", testcluster.Users["bob"])
	if err := other.Passwd(ctx, "Velvet77", "Velvet88"); err != nil {
		t.Fatal(err)
	}
	if ok, err := conf.SetClientPassword(path, "Velvet88"); !ok || err != nil {
		t.Fatalf("SetClientPassword: %v %v", ok, err)
	}
	mount.Close() // new logins from here on, as after the pooled connections idle out
	if _, err := mount.Ping(ctx); err != nil {
		t.Fatalf("after the conf got the new password: %v\n%s", err, log.String())
	}
	if strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("ERROR logged:\n%s", log.String())
	}

	// Changed again, the conf not rewritten: one ERROR, then no new tries.
	if err := other.Passwd(ctx, "Velvet88", "Velvet99"); err != nil {
		t.Fatal(err)
	}
	mount.Close()
	for range 3 {
		if _, err := mount.Ping(ctx); !errors.Is(err, core.ErrAuth) {
			t.Fatalf("with a stale conf: %v, want ErrAuth", err)
		}
	}
	if n := strings.Count(log.String(), "level=ERROR"); n != 1 || !strings.Contains(log.String(), "or remount") {
		t.Errorf("%d ERROR lines:\n%s", n, log.String())
	}
	start := time.Now()
	if _, err := mount.Ping(ctx); !errors.Is(err, core.ErrAuth) || time.Since(start) > 500*time.Millisecond {
		t.Errorf("a known refused password was tried again: %v after %v", err, time.Since(start))
	}
	if _, err := conf.SetClientPassword(path, "Velvet99"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := mount.Ping(ctx)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the conf's new password never taken: %v\n%s", err, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A running client that meets a reinstalled node's new key takes the new
// pin once dfc pin wrote it, and its healer restores the node's copies
// without waiting for the periodic heal.
func TestClientRereadsPinAndHeals(t *testing.T) {
	c := testcluster.Start(t)
	path := filepath.Join(t.TempDir(), "dfc.conf")
	c.WriteClientConf(t, path, "alice", testcluster.Users["alice"])
	var log syncBuffer
	mount := loadClient(t, path, &log)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	data := bytes.Repeat([]byte("dfs"), 100_000)
	if _, err := mount.Put(ctx, "f", bytes.NewReader(data), int64(len(data)), client.PutOptions{Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	go mount.RunHealer(ctx, client.HealerOptions{Check: 50 * time.Millisecond, Every: time.Hour})

	c.Reinstall(2) // DFS3, empty, new key
	mount.Close()
	if st, _ := mount.Ping(ctx); st[2].Up || !errors.Is(st[2].Err, core.ErrPinMismatch) {
		t.Fatalf("DFS3 with its old pin: %+v", st[2])
	}
	if err := conf.SetPin(path, "DFS3", c.Nodes()[2].Pin); err != nil {
		t.Fatal(err)
	}
	for {
		r, err := mount.Status(ctx)
		if err == nil && r.OK() && r.Nodes[2].Up {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("DFS3 not healed: %v %+v\n%s", err, r, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(log.String(), "read a new pin") {
		t.Errorf("log:\n%s", log.String())
	}
}

// The conf's Password line is read again only when the password came from
// it: $DFS_PASSWORD overrides the file, then and later, unless it is the
// file's own (as dfsmount hands it to its background half).
func TestReloadPasswordSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dfc.conf")
	var s strings.Builder
	for i := 1; i <= 4; i++ {
		s.WriteString("Server DFS" + string(rune('0'+i)) + " 127.0.0.1:1000" + string(rune('0'+i)) + "\n")
	}
	s.WriteString("Username: alice\nPassword: Crimson33\n")
	if err := os.WriteFile(path, []byte(s.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for env, want := range map[string]string{"other": "", "Crimson33": "Crimson44"} {
		t.Setenv(PasswordEnv, env)
		cfg, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conf.SetClientPassword(path, "Crimson44"); err != nil {
			t.Fatal(err)
		}
		r, err := cfg.Reload()
		if err != nil || r.Password != want {
			t.Errorf("DFS_PASSWORD=%s: reload gives %q, %v; want %q", env, r.Password, err, want)
		}
		conf.SetClientPassword(path, "Crimson33")
	}
}
