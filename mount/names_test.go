//go:build linux

package mount

import (
	"errors"
	"strings"
	"testing"

	"dfs/core/client"
	"dfs/core/crypt"

	"golang.org/x/sys/unix"
)

func TestFitsNodes(t *testing.T) {
	long := strings.Repeat("a", crypt.MaxName) // stored as crypt.EncryptedLen(crypt.MaxName) bytes
	deep := func(n int) string { return strings.Repeat(long+"/", n-1) + long }
	most := (maxStored + 1) / (crypt.EncryptedLen(crypt.MaxName) + 1) // components of long that fit
	for _, c := range []struct {
		p    string
		fits bool
	}{
		{"a", true},
		{deep(most), true},
		{deep(most + 1), false},
	} {
		if got := fitsNodes(c.p); got != c.fits {
			t.Errorf("fitsNodes(%d bytes, %d stored) = %v, want %v", len(c.p), client.StoredLen(c.p), got, c.fits)
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
	// Names are stored encrypted (client.StoredLen): folders until what is
	// left for the file's name is more than the shortest name's and less
	// than the longest's, so that names on both sides of the limit exist.
	stored := 0 // stored bytes of the folders' path, with its trailing slash
	for left := maxStored; left >= crypt.EncryptedLen(crypt.MaxName); left = maxStored - stored {
		n := crypt.MaxName
		if left <= 2*crypt.EncryptedLen(crypt.MaxName)+1 {
			for n = 1; left-crypt.EncryptedLen(n)-1 > crypt.EncryptedLen(crypt.MaxName)-1; n++ {
			}
		}
		name := strings.Repeat("d", n)
		if err := unix.Mkdirat(dfd, name, 0o755); err != nil {
			t.Fatalf("mkdir at %d bytes: %v", stored, err)
		}
		next, err := unix.Openat(dfd, name, unix.O_DIRECTORY|unix.O_RDONLY, 0)
		unix.Close(dfd)
		if err != nil {
			t.Fatal(err)
		}
		dfd, stored = next, stored+crypt.EncryptedLen(len(name))+1
	}
	defer unix.Close(dfd)
	n := 1
	for crypt.EncryptedLen(n+1) <= maxStored-stored {
		n++
	}
	fits := strings.Repeat("f", n)
	tooLong := fits + "x"
	if fd, err := unix.Openat(dfd, strings.Repeat("g", crypt.MaxName+1), unix.O_CREAT|unix.O_WRONLY, 0o644); !errors.Is(err, unix.ENAMETOOLONG) {
		unix.Close(fd)
		t.Errorf("create of a name of %d bytes: %v, want ENAMETOOLONG", crypt.MaxName+1, err)
	}
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
			t.Errorf("%s of a %d-byte stored path: %v, want ENAMETOOLONG", mk.op, stored+crypt.EncryptedLen(len(tooLong)), err)
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
