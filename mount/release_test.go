//go:build linux

package mount

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestChangeBeforeRelease: a change that reaches a spool after its last
// close (here a truncate by name while a mapping keeps the file open, so
// that only RELEASE follows, at munmap) is stored, not dropped. The same
// window, between close's FLUSH and the RELEASE the kernel sends after
// close returned, lost posixtest's TruncateNoFile under load.
func TestChangeBeforeRelease(t *testing.T) {
	_, cl, mp := setup(t)
	p := filepath.Join(mp, "mapped")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, 5, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil { // FLUSH stores "hello"; the mapping holds the handle
		t.Fatal(err)
	}
	if err := syscall.Truncate(p, 1); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Munmap(m); err != nil { // RELEASE
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		e, err := cl.Stat(context.Background(), "mapped")
		if err == nil && e.Size == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored after release: size %d, %v; want the truncate's 1", e.Size, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
