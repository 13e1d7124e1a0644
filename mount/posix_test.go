//go:build linux

package mount

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"dfs/internal/testcluster"
)

// Issue 16: what stat shows and what changes it, one test per item.

func lstat(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func dropCaches(t *testing.T) {
	t.Helper()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("2"), 0); err != nil {
		t.Logf("drop_caches: %v (not root?)", err)
	}
}

// TestInodeNumbers: the same number after the kernel forgot the inode,
// after a rename, on another mount (a remount or another client).
func TestInodeNumbers(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	mp := mountT(t, cl)
	if err := os.MkdirAll(filepath.Join(mp, "d/e"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(mp, "d/e/f")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ino := map[string]uint64{}
	for _, n := range []string{"d", "d/e", "d/e/f"} {
		ino[n] = lstat(t, filepath.Join(mp, n)).Ino
		if ino[n] <= 1 {
			t.Fatalf("%s: inode %d", n, ino[n])
		}
	}
	if err := os.WriteFile(f, []byte("overwritten"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // past the attribute timeout
	dropCaches(t)
	for n, want := range ino {
		if got := lstat(t, filepath.Join(mp, n)).Ino; got != want {
			t.Errorf("%s: inode %d after an overwrite and drop_caches, was %d", n, got, want)
		}
	}
	other := mountT(t, c.Client(t, "alice", "Crimson33"))
	for n, want := range ino {
		if got := lstat(t, filepath.Join(other, n)).Ino; got != want {
			t.Errorf("%s: inode %d on a second mount, %d on the first", n, got, want)
		}
	}
	if err := os.Rename(filepath.Join(mp, "d/e"), filepath.Join(mp, "e2")); err != nil {
		t.Fatal(err)
	}
	if got := lstat(t, filepath.Join(mp, "e2/f")).Ino; got != ino["d/e/f"] {
		t.Errorf("inode %d after the folder's rename, was %d", got, ino["d/e/f"])
	}
	eventually(t, 5*time.Second, "the rename on the other mount", func() error {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(other, "e2"), &st); err != nil {
			return err
		}
		if st.Ino != ino["d/e"] {
			t.Errorf("renamed folder on the other mount: inode %d, was %d", st.Ino, ino["d/e"])
		}
		return nil
	})
}

// TestFolderTimes: creating, removing and renaming inside a folder moves
// its mtime and ctime, and the mount shows it at once.
func TestFolderTimes(t *testing.T) {
	t.Parallel()
	_, _, mp := setup(t)
	d, d2 := filepath.Join(mp, "d"), filepath.Join(mp, "d2")
	for _, p := range []string{d, d2} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Unix(1e9, 0)
	settle := func() {
		for _, p := range []string{d, d2} {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(what string, dirs ...string) {
		t.Helper()
		for _, p := range dirs {
			st := lstat(t, p)
			if st.Mtim.Sec == old.Unix() || st.Ctim.Sec < time.Now().Unix()-60 {
				t.Errorf("%s: %s mtime %v ctime %v, want now", what, filepath.Base(p), st.Mtim, st.Ctim)
			}
		}
	}
	settle()
	lstat(t, d) // the kernel holds the old times
	if err := os.WriteFile(filepath.Join(d, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	check("create", d)
	settle()
	lstat(t, d)
	if err := os.Mkdir(filepath.Join(d, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	check("mkdir", d)
	settle()
	lstat(t, d)
	lstat(t, d2)
	if err := os.Rename(filepath.Join(d, "f"), filepath.Join(d2, "f")); err != nil {
		t.Fatal(err)
	}
	check("rename", d, d2)
	settle()
	lstat(t, d2)
	if err := os.Remove(filepath.Join(d2, "f")); err != nil {
		t.Fatal(err)
	}
	check("unlink", d2)
	if n := lstat(t, d).Nlink; n != 1 {
		t.Errorf("folder nlink %d, want 1", n)
	}
}

// TestCtimeAndAtime: chmod, rename, truncate and write move ctime; touch
// -a and touch -m set one time each; utimensat keeps different atime and
// mtime.
func TestCtimeAndAtime(t *testing.T) {
	t.Parallel()
	_, _, mp := setup(t)
	f := filepath.Join(mp, "f")
	if err := os.WriteFile(f, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	at, mt := time.Unix(1e9, 5), time.Unix(1.2e9, 7)
	if err := os.Chtimes(f, at, mt); err != nil {
		t.Fatal(err)
	}
	st := lstat(t, f)
	if st.Atim.Sec != at.Unix() || st.Atim.Nsec != 5 || st.Mtim.Sec != mt.Unix() || st.Mtim.Nsec != 7 {
		t.Fatalf("after utimensat: atime %v mtime %v", st.Atim, st.Mtim)
	}
	ctime := func() int64 { s := lstat(t, f); return s.Ctim.Nano() }
	steps := []struct {
		what string
		do   func() error
	}{
		{"chmod", func() error { return os.Chmod(f, 0o600) }},
		{"rename", func() error {
			err := os.Rename(f, f+"2")
			if err == nil {
				err = os.Rename(f+"2", f)
			}
			return err
		}},
		{"truncate", func() error { return os.Truncate(f, 2) }},
		{"write", func() error {
			w, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			w.WriteString("more")
			return w.Close()
		}},
	}
	for _, s := range steps {
		before := ctime()
		time.Sleep(20 * time.Millisecond)
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		if after := ctime(); after <= before {
			t.Errorf("%s: ctime %d, was %d", s.what, after, before)
		}
	}
	st = lstat(t, f)
	if st.Atim.Sec != at.Unix() {
		t.Errorf("atime %v after writes, want %v kept (noatime)", st.Atim, at)
	}
	for _, c := range []struct {
		flag      string
		atimeMove bool
	}{{"-a", true}, {"-m", false}} {
		before := lstat(t, f)
		time.Sleep(20 * time.Millisecond)
		if out, err := exec.Command("touch", c.flag, f).CombinedOutput(); err != nil {
			t.Fatalf("touch %s: %v: %s", c.flag, err, out)
		}
		after := lstat(t, f)
		if (after.Atim != before.Atim) != c.atimeMove || (after.Mtim != before.Mtim) == c.atimeMove {
			t.Errorf("touch %s: atime %v->%v, mtime %v->%v", c.flag, before.Atim, after.Atim, before.Mtim, after.Mtim)
		}
	}
}

// TestOwnerAndMode: chown by root is stored, all twelve mode bits are,
// open(O_CREAT) with mode 0 makes mode 0, and a new entry in a setgid
// folder takes its group (a folder its bit too).
func TestOwnerAndMode(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	_, _, mp := setup(t)
	f := filepath.Join(mp, "f")
	if err := os.WriteFile(f, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(f, 1234, 5678); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f, 0o6755|os.ModeSetuid|os.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	if err := unix.Chmod(f, 0o6755); err != nil {
		t.Fatal(err)
	}
	st := lstat(t, f)
	if st.Uid != 1234 || st.Gid != 5678 || st.Mode != unix.S_IFREG|0o6755 {
		t.Fatalf("after chown 1234:5678, chmod 6755: uid %d gid %d mode %o", st.Uid, st.Gid, st.Mode)
	}
	if err := unix.Chmod(f, 0o1777); err != nil {
		t.Fatal(err)
	}
	if st := lstat(t, f); st.Mode != unix.S_IFREG|0o1777 {
		t.Errorf("chmod 1777: mode %o", st.Mode)
	}
	old := unix.Umask(0)
	fd, err := unix.Open(filepath.Join(mp, "zero"), unix.O_CREAT|unix.O_WRONLY|unix.O_EXCL, 0)
	unix.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	time.Sleep(1100 * time.Millisecond)
	if st := lstat(t, filepath.Join(mp, "zero")); st.Mode != unix.S_IFREG {
		t.Errorf("O_CREAT with mode 0: mode %o after close", st.Mode)
	}
	sg := filepath.Join(mp, "sg")
	if err := os.Mkdir(sg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(sg, 0, 4321); err != nil {
		t.Fatal(err)
	}
	if err := unix.Chmod(sg, 0o2775); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sg, "in"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(sg, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if st := lstat(t, filepath.Join(sg, "in")); st.Gid != 4321 {
		t.Errorf("file in a setgid folder: gid %d, want 4321", st.Gid)
	}
	if st := lstat(t, filepath.Join(sg, "sub")); st.Gid != 4321 || st.Mode&unix.S_ISGID == 0 {
		t.Errorf("folder in a setgid folder: gid %d mode %o, want 4321 and setgid", st.Gid, st.Mode)
	}
}

// TestSymlinks: create, readlink, lstat, rename, unlink; dangling and
// relative targets; hard links are EPERM; FIFOs and sockets are entries.
func TestSymlinks(t *testing.T) {
	t.Parallel()
	_, cl, mp := setup(t)
	if err := os.MkdirAll(filepath.Join(mp, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mp, "d/target"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	rel, dangling := filepath.Join(mp, "d/rel"), filepath.Join(mp, "dangling")
	if err := os.Symlink("target", rel); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../nowhere/at/all", dangling); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(rel); err != nil || string(got) != "hello" {
		t.Fatalf("read through a relative symlink: %q, %v", got, err)
	}
	if _, err := os.Stat(dangling); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat through a dangling symlink: %v", err)
	}
	st := lstat(t, dangling)
	if st.Mode&unix.S_IFMT != unix.S_IFLNK || st.Size != int64(len("../nowhere/at/all")) {
		t.Errorf("lstat: mode %o size %d", st.Mode, st.Size)
	}
	if err := os.Rename(rel, filepath.Join(mp, "rel")); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(filepath.Join(mp, "rel")); err != nil || got != "target" {
		t.Errorf("readlink after rename: %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(mp, "rel")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("moved relative symlink resolves: %v", err)
	}
	e, err := cl.Stat(t.Context(), "rel")
	if err != nil || !e.IsSymlink() || e.Target != "target" {
		t.Errorf("the nodes hold %+v, %v", e, err)
	}
	if err := os.Remove(filepath.Join(mp, "rel")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(mp, "rel")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lstat after unlink: %v", err)
	}
	if err := os.Link(filepath.Join(mp, "d/target"), filepath.Join(mp, "hard")); !errors.Is(err, unix.EPERM) {
		t.Errorf("link: %v, want EPERM", err)
	}
	if err := unix.Mkfifo(filepath.Join(mp, "fifo"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(mp, "sock"), unix.S_IFSOCK|0o600, 0); err != nil {
		t.Fatal(err)
	}
	if st := lstat(t, filepath.Join(mp, "fifo")); st.Mode != unix.S_IFIFO|0o640 {
		t.Errorf("fifo: mode %o", st.Mode)
	}
	if st := lstat(t, filepath.Join(mp, "sock")); st.Mode != unix.S_IFSOCK|0o600 {
		t.Errorf("socket: mode %o", st.Mode)
	}
	if err := unix.Mknod(filepath.Join(mp, "dev"), unix.S_IFCHR|0o600, 0x0101); !errors.Is(err, unix.EPERM) {
		t.Errorf("mknod of a device: %v, want EPERM", err)
	}
}

// TestRenameFlags: RENAME_NOREPLACE refuses an existing target and moves
// otherwise; RENAME_EXCHANGE is EINVAL.
func TestRenameFlags(t *testing.T) {
	t.Parallel()
	_, _, mp := setup(t)
	a, b, c := filepath.Join(mp, "a"), filepath.Join(mp, "b"), filepath.Join(mp, "c")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_NOREPLACE); !errors.Is(err, unix.EEXIST) {
		t.Errorf("RENAME_NOREPLACE over a file: %v, want EEXIST", err)
	}
	if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); !errors.Is(err, unix.EINVAL) {
		t.Errorf("RENAME_EXCHANGE: %v, want EINVAL", err)
	}
	if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, c, unix.RENAME_NOREPLACE); err != nil {
		t.Fatalf("RENAME_NOREPLACE to a free name: %v", err)
	}
	if got, err := os.ReadFile(c); err != nil || string(got) != a {
		t.Errorf("after the move: %q, %v", got, err)
	}
}

// TestBlksize: st_blksize is the largest write the kernel sends.
func TestBlksize(t *testing.T) {
	t.Parallel()
	_, _, mp := setup(t)
	p := filepath.Join(mp, "f")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if st := lstat(t, p); st.Blksize != maxWrite {
		t.Errorf("st_blksize %d, want %d", st.Blksize, maxWrite)
	}
}
