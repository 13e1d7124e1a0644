//go:build linux

package mount

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestChangeBeforeRelease: a change that reaches a spool after its last
// close is stored, not dropped. A mapping keeps the file open after close,
// so that only RELEASE follows (at munmap): a truncate by name, and a write
// through the mapping, land in that window. The same window, between
// close's FLUSH and the RELEASE the kernel sends after close returned, lost
// posixtest's TruncateNoFile under load.
func TestChangeBeforeRelease(t *testing.T) {
	_, cl, mp := setup(t)
	for _, c := range []struct {
		name   string
		change func(p string, m []byte) error
		want   string
	}{
		{"truncated", func(p string, m []byte) error { return syscall.Truncate(p, 1) }, "h"},
		{"written", func(p string, m []byte) error { m[0] = 'J'; return nil }, "Jello"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(mp, c.name)
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
			if err := f.Close(); err != nil { // FLUSH stores "hello"; the mapping holds the handle
				t.Fatal(err)
			}
			if err := c.change(p, m); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Munmap(m); err != nil { // RELEASE
				t.Fatal(err)
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
