//go:build linux

package mount

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestFitsNodes(t *testing.T) {
	for _, c := range []struct {
		p    string
		fits bool
	}{
		{"a", true},
		{strings.Repeat("a", maxStored), true},
		{strings.Repeat("a", maxStored+1), false},
		{"@" + strings.Repeat("a", maxStored-1), false}, // stored as "@@..."
		{"@" + strings.Repeat("a", maxStored-2), true},
		{"x/@y/" + strings.Repeat("a", maxStored-6), true},
		{"x/@y/" + strings.Repeat("a", maxStored-5), false},
	} {
		if got := fitsNodes(c.p); got != c.fits {
			t.Errorf("fitsNodes(%d bytes starting %q) = %v, want %v", len(c.p), c.p[:min(len(c.p), 6)], got, c.fits)
		}
	}
}

// TestLongPath: a file whose path is too long for the nodes is refused
// when it is created (ENAMETOOLONG), not lost at close; one at the limit is
// stored. Folders are made and entered by descriptor, as a program deep in
// a tree does (the kernel limits only each call's own path).
func TestLongPath(t *testing.T) {
	t.Parallel()
	_, cl, mp := setup(t)
	dfd, err := unix.Open(mp, unix.O_DIRECTORY|unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0                  // bytes of the folders' path, with its trailing slash
	for maxStored-stored > 200 { // until a 200-byte name reaches the limit
		name := strings.Repeat("d", min(250, maxStored-stored-200-1))
		if err := unix.Mkdirat(dfd, name, 0o755); err != nil {
			t.Fatalf("mkdir at %d bytes: %v", stored, err)
		}
		next, err := unix.Openat(dfd, name, unix.O_DIRECTORY|unix.O_RDONLY, 0)
		unix.Close(dfd)
		if err != nil {
			t.Fatal(err)
		}
		dfd, stored = next, stored+len(name)+1
	}
	defer unix.Close(dfd)
	fits := strings.Repeat("f", maxStored-stored)
	tooLong := fits + "x"
	for _, mk := range []struct {
		op string
		do func(name string) error
	}{
		{"create", func(name string) error {
			fd, err := unix.Openat(dfd, name, unix.O_CREAT|unix.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			if _, err := unix.Write(fd, []byte("data")); err != nil {
				unix.Close(fd)
				return err
			}
			return unix.Close(fd)
		}},
		{"mkdir", func(name string) error { return unix.Mkdirat(dfd, name+"d", 0o755) }},
	} {
		if err := mk.do(tooLong); !errors.Is(err, unix.ENAMETOOLONG) {
			t.Errorf("%s of a %d-byte path: %v, want ENAMETOOLONG", mk.op, stored+len(tooLong), err)
		}
	}
	fd, err := unix.Openat(dfd, fits, unix.O_CREAT|unix.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("create at the limit: %v", err)
	}
	unix.Write(fd, []byte("data"))
	if err := unix.Close(fd); err != nil {
		t.Fatalf("close at the limit: %v", err)
	}
	if err := unix.Fchmodat(dfd, fits, 0o600, 0); err != nil { // the node replaces the entry's record
		t.Fatalf("chmod at the limit: %v", err)
	}
	if err := unix.Renameat(dfd, fits, dfd, tooLong); !errors.Is(err, unix.ENAMETOOLONG) {
		t.Errorf("rename to a path too long: %v, want ENAMETOOLONG", err)
	}
	es, err := cl.ReadDir(t.Context(), "")
	if err != nil || len(es) != 1 {
		t.Fatalf("top folder: %v, %v", es, err)
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, fits, &st, 0); err != nil || st.Size != 4 || st.Mode&0o777 != 0o600 {
		t.Fatalf("stat of the file at the limit: size %d mode %o, %v", st.Size, st.Mode, err)
	}
}
