//go:build linux

package mount

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"dfs/core/client"
	"dfs/internal/testcluster"
)

// TestStatusFile: the status file is readable at the top of the mount,
// not listed, and refuses every change; a user's file of that name stays
// on the nodes, shadowed; deeper folders may hold the name. With a node
// stopped, writes succeed, the log warns once, and the status file shows
// the node down and the degraded writes until the healer restores them.
func TestStatusFile(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	ctx := context.Background()
	var log lockedBuffer
	opts := testOptions(t)
	opts.Log = slog.New(slog.NewTextHandler(&log, nil))
	opts.Health = NewHealth(opts.Log)
	nodes, err := cl.Ping(ctx)
	if err != nil {
		t.Fatal(err)
	}
	opts.Health.SetNodes(nodes)
	// The user's own file of that name, written before the mount.
	mine := []byte("my own notes")
	if _, err := cl.Put(ctx, StatusName, bytes.NewReader(mine), int64(len(mine)), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	mp := mountOptsT(t, cl, opts)
	status := filepath.Join(mp, StatusName)
	read := func() string {
		t.Helper()
		b, err := os.ReadFile(status)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if st := read(); !strings.Contains(st, "state: ok\n") || !strings.Contains(st, "degraded_writes: 0\n") {
		t.Fatalf("status with every node up:\n%s", st)
	}
	fi, err := os.Stat(status)
	if err != nil || fi.Mode() != 0o444 || fi.Size() == 0 {
		t.Fatalf("stat: %v, %v", fi, err)
	}
	names, err := os.ReadDir(mp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range names {
		if e.Name() == StatusName {
			t.Errorf("%s is listed", StatusName)
		}
	}
	for what, errno := range map[string]error{
		"write":    os.WriteFile(status, []byte("x"), 0o644),
		"append":   func() error { _, err := os.OpenFile(status, os.O_WRONLY|os.O_APPEND, 0); return err }(),
		"truncate": os.Truncate(status, 0),
		"chmod":    os.Chmod(status, 0o666),
		"remove":   os.Remove(status),
		"rename":   os.Rename(status, filepath.Join(mp, "moved")),
		"replace": func() error {
			os.WriteFile(filepath.Join(mp, "other"), nil, 0o644)
			return os.Rename(filepath.Join(mp, "other"), status)
		}(),
		"create": func() error { _, err := os.OpenFile(status, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); return err }(),
		"mkdir":  os.Mkdir(status, 0o755),
	} {
		if errno == nil {
			t.Errorf("%s of %s succeeded", what, StatusName)
		} else if !errors.Is(errno, syscall.EACCES) && !errors.Is(errno, syscall.EPERM) && !errors.Is(errno, fs.ErrExist) {
			t.Errorf("%s of %s: %v, want EACCES, EPERM or EEXIST", what, StatusName, errno)
		}
	}
	if st := read(); !strings.HasPrefix(st, "state: ") {
		t.Fatalf("after the attempts: %q", st)
	}
	// The user's file is untouched on the nodes; a deeper one is ordinary.
	if f, err := cl.Open(ctx, StatusName); err != nil {
		t.Fatal(err)
	} else {
		got := make([]byte, len(mine)+1)
		n, _ := f.ReadAt(got, 0)
		f.Close()
		if string(got[:n]) != string(mine) {
			t.Errorf("the user's %s on the nodes: %q", StatusName, got[:n])
		}
	}
	os.Mkdir(filepath.Join(mp, "sub"), 0o755)
	deep := filepath.Join(mp, "sub", StatusName)
	if err := os.WriteFile(deep, []byte("deep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(deep); err != nil || string(b) != "deep" {
		t.Fatalf("sub/%s: %q, %v", StatusName, b, err)
	}

	// A node down: writes succeed with one copy of some chunks.
	healCtx, stopHealer := context.WithCancel(ctx)
	defer stopHealer()
	go cl.RunHealer(healCtx, client.HealerOptions{Check: 100 * time.Millisecond, Log: opts.Log,
		Checked: opts.Health.SetNodes, Healed: opts.Health.Healed})
	c.Stop(1)
	for i := range 3 {
		if err := os.WriteFile(filepath.Join(mp, "f"+string(rune('a'+i))), bytes.Repeat([]byte{'x'}, 100<<10), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(log.String(), "degraded write"); n != 1 {
		t.Errorf("three degraded writes logged %d warnings, want 1:\n%s", n, log.String())
	}
	eventually(t, 5*time.Second, "the status file does not show the node down", func() error {
		st := read()
		for _, want := range []string{"state: degraded\n", "degraded_writes: 3\n", " down since "} {
			if !strings.Contains(st, want) {
				return errors.New(st)
			}
		}
		return nil
	})
	c.Restart(1)
	eventually(t, 10*time.Second, "the heal did not end the episode", func() error {
		if st := read(); !strings.Contains(st, "state: ok\n") || !strings.Contains(st, "degraded_since: -\n") {
			return errors.New(st)
		}
		return nil
	})
	if !strings.Contains(log.String(), "two copies restored") {
		t.Errorf("the end of the episode is not in the log:\n%s", log.String())
	}
}
