//go:build linux

package mount

import (
	"dfs/core"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFallocate: mode 0 makes a stored file longer with a hole that costs
// nothing, KEEP_SIZE succeeds and changes nothing, other modes are
// EOPNOTSUPP (so that tools fall back).
func TestFallocate(t *testing.T) {
	t.Parallel()
	_, _, mp := setup(t)
	p := filepath.Join(mp, "f")
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(p, unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if fd >= 0 {
			unix.Close(fd)
		}
	}()
	if err := unix.Fallocate(fd, unix.FALLOC_FL_KEEP_SIZE, 0, 1<<20); err != nil {
		t.Fatalf("fallocate KEEP_SIZE: %v", err)
	}
	if err := unix.Fallocate(fd, 0, 0, 3); err != nil { // inside the file: nothing to do
		t.Fatalf("fallocate inside: %v", err)
	}
	const size = 64 << 20
	if err := unix.Fallocate(fd, 0, 1<<20, size-1<<20); err != nil {
		t.Fatalf("fallocate: %v", err)
	}
	err = unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, 4096)
	if !errors.Is(err, unix.EOPNOTSUPP) {
		t.Fatalf("punch hole: %v, want EOPNOTSUPP", err)
	}
	if err := unix.Close(fd); err != nil {
		t.Fatal(err)
	}
	fd = -1
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != size {
		t.Fatalf("size %d after fallocate, want %d", st.Size, size)
	}
	if st.Blocks*512 > 1<<20 {
		t.Errorf("st_blocks %d: the hole fallocate made is stored", st.Blocks)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got[:5]) != "hello" || len(got) != size {
		t.Fatalf("read %d bytes starting %q", len(got), got[:5])
	}
	for i, b := range got[5:] {
		if b != 0 {
			t.Fatalf("byte %d is %d, want 0", i+5, b)
		}
	}

	// An empty stored file opened again: the extension is stored at close.
	q := filepath.Join(mp, "g")
	if err := os.WriteFile(q, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fd2, err := unix.Open(q, unix.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Fallocate(fd2, 0, 0, 10); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd2)
	if fi, err := os.Stat(q); err != nil || fi.Size() != 10 {
		t.Fatalf("stat after fallocate: %v, %v", fi, err)
	}

	// Past the largest file: EFBIG, and what the open file holds is kept.
	fd3, err := unix.Open(q, unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Pwrite(fd3, []byte("kept"), 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fallocate(fd3, 0, 0, core.MaxFileSize+1); !errors.Is(err, unix.EFBIG) {
		t.Errorf("fallocate past the largest file: %v, want EFBIG", err)
	}
	if err := unix.Close(fd3); err != nil {
		t.Fatalf("close after the refused fallocate: %v", err)
	}
	if got, err := os.ReadFile(q); err != nil || string(got[:4]) != "kept" || len(got) != 10 {
		t.Fatalf("after the refused fallocate: %q, %v", got, err)
	}
}
