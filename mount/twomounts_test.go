//go:build linux

package mount

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestTwoMounts: two mounts of one user (two machines) see each other's
// closed files within the attribute timeout, and two writers of one file end
// with one whole version, the last to close.
func TestTwoMounts(t *testing.T) {
	c, _, a := setup(t)
	b := mountT(t, c.Client(t, "alice", "Crimson33"))
	if err := os.WriteFile(filepath.Join(a, "from-a"), []byte("written in a"), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "b does not see a's file", func() error {
		got, err := os.ReadFile(filepath.Join(b, "from-a"))
		if err == nil && string(got) != "written in a" {
			err = fmt.Errorf("got %q", got)
		}
		return err
	})

	contents := [][]byte{bytes.Repeat([]byte("A"), 3<<20), bytes.Repeat([]byte("B"), 3<<20+5)}
	var wg sync.WaitGroup
	for i, mp := range []string{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := os.WriteFile(filepath.Join(mp, "both"), contents[i], 0o644); err != nil {
				t.Errorf("write through mount %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	time.Sleep(1200 * time.Millisecond) // attribute timeout
	var seen [][]byte
	for _, mp := range []string{a, b} {
		got, err := os.ReadFile(filepath.Join(mp, "both"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, contents[0]) && !bytes.Equal(got, contents[1]) {
			t.Fatalf("a mix of two writers: %d bytes starting %q", len(got), got[:1])
		}
		seen = append(seen, got)
	}
	if !bytes.Equal(seen[0], seen[1]) {
		t.Errorf("the mounts disagree on the last version")
	}
}

// TestHangingNodeUnderMount: a node that accepts and never answers costs
// about a second, not a hang: reads and writes go on without it.
func TestHangingNodeUnderMount(t *testing.T) {
	c, cl, mp := setup(t)
	data := putRandom(t, cl, "f", 2<<20)
	c.Hang(2)
	done := make(chan error, 1)
	go func() {
		got, err := os.ReadFile(filepath.Join(mp, "f"))
		if err == nil && !bytes.Equal(got, data) {
			t.Errorf("wrong bytes with DFS3 hanging")
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(mp, "g"), data, 0o644)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("with DFS3 hanging: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the mount hung on a hanging node")
	}
	c.Restart(2)
}

// TestReadDuringOverwrite: a file open for reading while another client
// replaces it reads the version it opened, whole (the nodes keep superseded
// chunks for a grace period).
func TestReadDuringOverwrite(t *testing.T) {
	c, cl, mp := setup(t)
	v1 := putRandom(t, cl, "f", 8<<20)
	fd, err := syscall.Open(filepath.Join(mp, "f"), syscall.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "f")
	defer f.Close()
	got := make([]byte, len(v1))
	if _, err := f.ReadAt(got[:1<<20], 0); err != nil {
		t.Fatal(err)
	}
	putRandom(t, c.Client(t, "alice", "Crimson33"), "f", 8<<20) // another client overwrites
	if _, err := f.ReadAt(got[1<<20:], 1<<20); err != nil {
		t.Fatalf("read after an overwrite by another client: %v", err)
	}
	if !bytes.Equal(got, v1) {
		t.Fatal("the open file changed under its reader: not the version it opened")
	}
}

// TestHandlesSeeLocalWrites: a read-only fd opened before another fd of
// this mount rewrote the file reads the new content afterwards; an append
// fd whose file was renamed before its first write still works.
func TestHandlesSeeLocalWrites(t *testing.T) {
	_, _, mp := setup(t)
	p := filepath.Join(mp, "f")
	if err := os.WriteFile(p, []byte("version one"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, 64)
	if n, _ := r.ReadAt(buf, 0); string(buf[:n]) != "version one" {
		t.Fatalf("first read: %q", buf[:n])
	}
	if err := os.WriteFile(p, []byte("version two"), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_DIRECT, 0)
	if err == nil {
		syscall.Close(fd)
	}
	if n, _ := r.ReadAt(buf, 0); string(buf[:n]) != "version two" {
		t.Errorf("read-only fd after a local rewrite: %q", buf[:n])
	}

	a, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p, filepath.Join(mp, "g")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Write([]byte(" and more")); err != nil {
		t.Fatalf("append after rename: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(mp, "g")); string(b) != "version two and more" {
		t.Errorf("after append and rename: %q", b)
	}
}
