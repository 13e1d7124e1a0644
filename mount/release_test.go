//go:build linux

package mount

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestChangeBeforeRelease: a change that reaches a spool after its last
// close is stored, not dropped. A mapping keeps the file open after close,
// so that only RELEASE follows (at munmap): a truncate by name, and a write
// through the mapping, land in that window. The same window, between
// close's FLUSH and the RELEASE the kernel sends after close returned, lost
// posixtest's TruncateNoFile under load. The mapping is made by a process
// of its own: munmap in the process that also serves the mount can wait on
// writeback that a server thread, stuck behind the same mm lock, never does.
func TestChangeBeforeRelease(t *testing.T) {
	_, cl, mp := setup(t)
	for _, c := range []struct {
		name string
		want string
	}{{"truncated", "h"}, {"written", "Jello"}} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMappedWriter$", "-test.count=1")
			cmd.Env = append(os.Environ(), "DFS_MAPPED_WRITER="+filepath.Join(mp, c.name))
			cmd.Dir = t.TempDir() // never inside the mount (see run)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("the mapping writer failed: %v\n%s", err, out)
			}
			eventually(t, 10*time.Second, c.name+" stored after release", func() error {
				rf, err := cl.Open(context.Background(), c.name)
				if err != nil {
					return err
				}
				defer rf.Close()
				got := make([]byte, 16)
				n, err := rf.ReadAt(got, 0)
				if err != nil && !errors.Is(err, io.EOF) {
					return err
				}
				if string(got[:n]) != c.want {
					return fmt.Errorf("stored %q, want %q", got[:n], c.want)
				}
				return nil
			})
		})
	}
}

// TestMappedWriter is TestChangeBeforeRelease's writer: it writes "hello",
// maps the file, closes it (FLUSH stores "hello"; the mapping holds the
// handle), changes it (truncate by name for a path ending in "truncated",
// else a write through the mapping), then unmaps it (RELEASE).
func TestMappedWriter(t *testing.T) {
	p := os.Getenv("DFS_MAPPED_WRITER")
	if p == "" {
		t.Skip("run by TestChangeBeforeRelease")
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, 5, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(p, "truncated") {
		err = syscall.Truncate(p, 1)
	} else {
		m[0] = 'J'
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Munmap(m); err != nil {
		t.Fatal(err)
	}
}

// TestReaderCloseStoresNothing: closing a handle opened for reading stores
// nothing, even while another handle of the file has written part of a new
// content: the writer's close stores it. A reader's close that stored the
// spool made a version of a write half done, which every client then read.
func TestReaderCloseStoresNothing(t *testing.T) {
	_, cl, mp := setup(t)
	p := filepath.Join(mp, "f")
	if err := os.WriteFile(p, []byte("the old version"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write([]byte("half of")); err != nil {
		t.Fatal(err)
	}
	r, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	stored := func() string {
		rf, err := cl.Open(context.Background(), "f")
		if err != nil {
			t.Fatal(err)
		}
		defer rf.Close()
		got := make([]byte, 64)
		n, err := rf.ReadAt(got, 0)
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		return string(got[:n])
	}
	if got := stored(); got != "the old version" {
		t.Fatalf("after a reader's close the nodes hold %q, want the old version", got)
	}
	if _, err := w.Write([]byte(" the new version")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := stored(); got != "half of the new version" {
		t.Fatalf("after the writer's close the nodes hold %q", got)
	}
}
