//go:build linux

package mount

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRoundTrip copies a tree holding symlinks, all kinds of modes
// (setuid, setgid, sticky, a setgid folder), owners and times into the
// mount and back out with tar -p, rsync -a and cp -a, and compares the
// result with diff -r and, file by file, owner, mode and mtime.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("owners can only be given as root")
	}
	src := t.TempDir()
	mk := func(name string, mode uint32, uid, gid int, mtime int64, data string) {
		p := filepath.Join(src, name)
		var err error
		if data == "/" {
			err = os.Mkdir(p, 0o700)
		} else {
			err = os.WriteFile(p, []byte(data), 0o600)
		}
		if err == nil {
			err = os.Lchown(p, uid, gid)
		}
		if err == nil {
			err = unix.Chmod(p, mode)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer os.Chtimes(p, time.Unix(mtime, 0), time.Unix(mtime, 0)) // folders last: see below
	}
	mk("shared", 0o2775, 1001, 2000, 0, "/")
	mk("shared/notes", 0o664, 1001, 2000, 1e9, "notes\n")
	mk("shared/tool", 0o4755, 0, 0, 1.1e9, "#!/bin/sh\n")
	mk("shared/setgid", 0o2711, 1002, 2000, 1.2e9, "x")
	mk("tmp", 0o1777, 0, 0, 0, "/")
	mk("tmp/secret", 0o600, 1003, 1003, 1.3e9, "secret")
	mk("tmp/none", 0o000, 1004, 1004, 1.4e9, "")
	for _, l := range []struct{ name, target string }{
		{"shared/rel", "notes"}, {"up", "shared/notes"}, {"dangling", "../no/such/file"}, {"abs", "/etc/hostname"},
	} {
		if err := os.Symlink(l.target, filepath.Join(src, l.name)); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(filepath.Join(src, l.name), 1005, 1006); err != nil {
			t.Fatal(err)
		}
	}
	// Folder times last: entries made inside move them.
	for _, d := range []struct {
		name  string
		mtime int64
	}{{"shared", 1.5e9}, {"tmp", 1.6e9}} {
		if err := os.Chtimes(filepath.Join(src, d.name), time.Unix(d.mtime, 0), time.Unix(d.mtime, 0)); err != nil {
			t.Fatal(err)
		}
	}

	_, _, mp := setup(t)
	for _, tool := range []struct {
		name string
		copy func(from, to string) []string
	}{
		{"tar", func(from, to string) []string {
			return []string{"sh", "-c", `tar -C "$1" -cpf - . | tar -C "$2" -xpf -`, "sh", from, to}
		}},
		{"rsync", func(from, to string) []string { return []string{"rsync", "-a", from + "/", to + "/"} }},
		{"cp", func(from, to string) []string { return []string{"cp", "-a", from + "/.", to + "/"} }},
	} {
		t.Run(tool.name, func(t *testing.T) {
			if _, err := exec.LookPath(tool.name); err != nil {
				skipNoFuse(t, "%s is not installed", tool.name)
			}
			in, back := filepath.Join(mp, tool.name), filepath.Join(t.TempDir(), "back")
			for _, d := range []string{in, back} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, step := range [][2]string{{src, in}, {in, back}} {
				args := tool.copy(step[0], step[1])
				if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
					t.Fatalf("%v: %v\n%s", args, err, out)
				}
			}
			if out, err := exec.Command("diff", "-r", "--no-dereference", src, back).CombinedOutput(); err != nil {
				t.Errorf("diff -r: %v\n%s", err, out)
			}
			compareTrees(t, src, in)
			compareTrees(t, src, back)
		})
	}
}

// compareTrees checks that every entry of want is in got with the same
// type, mode, owner, group and mtime (seconds: tar keeps no more).
func compareTrees(t *testing.T, want, got string) {
	t.Helper()
	err := filepath.WalkDir(want, func(p string, _ fs.DirEntry, err error) error {
		if err != nil || p == want {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		var a, b unix.Stat_t
		if err := unix.Lstat(p, &a); err != nil {
			return err
		}
		if err := unix.Lstat(filepath.Join(got, rel), &b); err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		if a.Mode != b.Mode || a.Uid != b.Uid || a.Gid != b.Gid || a.Mtim.Sec != b.Mtim.Sec {
			t.Errorf("%s in %s: mode %o uid %d gid %d mtime %d, want mode %o uid %d gid %d mtime %d", rel, got,
				b.Mode, b.Uid, b.Gid, b.Mtim.Sec, a.Mode, a.Uid, a.Gid, a.Mtim.Sec)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
