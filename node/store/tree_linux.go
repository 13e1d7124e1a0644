package store

import (
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// resolve is how tree names are resolved: beneath the folder, no symlinks
// anywhere (the last component included), no /proc magic links.
const resolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// fastFD returns r's descriptor when openat2 works here, else -1 (an old
// kernel, or a sandbox that refuses it).
func fastFD(r *os.Root) int {
	f, err := r.Open(".")
	if err != nil {
		return -1
	}
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return -1
	}
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: resolve}
	probe, err := unix.Openat2(fd, ".", &how)
	if err != nil {
		unix.Close(fd)
		return -1
	}
	unix.Close(probe)
	return fd
}

func (t *tree) openat2(name string, flags int, mode uint32) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Mode: uint64(mode), Resolve: resolve}
	for {
		fd, err := unix.Openat2(t.fd, name, &how)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// dir opens a name's folder for the *at calls; close it with unix.Close
// unless it is the tree's own descriptor.
func (t *tree) dir(op, name string) (int, string, error) {
	d, b := split(name)
	if d == "" {
		return t.fd, b, nil
	}
	fd, err := t.openat2(d, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return -1, "", symlinkErr(op, name, err)
	}
	return fd, b, nil
}

// Close closes the tree.
func (t *tree) Close() error {
	if t.fd >= 0 {
		unix.Close(t.fd)
	}
	return t.root.Close()
}

// sameFile reports whether two descriptions (from os or from tree) are of
// one file.
func sameFile(a, b fs.FileInfo) bool {
	da, ia, ok1 := devIno(a)
	db, ib, ok2 := devIno(b)
	return ok1 && ok2 && da == db && ia == ib
}

func devIno(fi fs.FileInfo) (uint64, uint64, bool) {
	switch st := fi.Sys().(type) {
	case *syscall.Stat_t:
		return st.Dev, st.Ino, true
	case *unix.Stat_t:
		return st.Dev, st.Ino, true
	}
	return 0, 0, false
}

func (t *tree) release(fd int) {
	if fd != t.fd {
		unix.Close(fd)
	}
}

// OpenFile opens name like os.Root.OpenFile.
func (t *tree) OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	if t.fd < 0 {
		return t.root.OpenFile(name, flag, perm)
	}
	fd, err := t.openat2(name, flag, uint32(perm.Perm()))
	if err != nil {
		return nil, symlinkErr("open", name, err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

// Open opens name for reading.
func (t *tree) Open(name string) (*os.File, error) { return t.OpenFile(name, os.O_RDONLY, 0) }

// Lstat describes name without following a symlink there.
func (t *tree) Lstat(name string) (fs.FileInfo, error) {
	if t.fd < 0 {
		return t.root.Lstat(name)
	}
	dfd, base, err := t.dir("lstat", name)
	if err != nil {
		return nil, err
	}
	defer t.release(dfd)
	if base == "" {
		base = "."
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, symlinkErr("lstat", name, err)
	}
	return &statInfo{name: base, st: st}, nil
}

// Mkdir makes the folder name.
func (t *tree) Mkdir(name string, perm os.FileMode) error {
	if t.fd < 0 {
		return t.root.Mkdir(name, perm)
	}
	dfd, base, err := t.dir("mkdir", name)
	if err != nil {
		return err
	}
	defer t.release(dfd)
	if err := unix.Mkdirat(dfd, base, uint32(perm.Perm())); err != nil {
		return symlinkErr("mkdir", name, err)
	}
	return nil
}

// Remove removes the file or empty folder name.
func (t *tree) Remove(name string) error {
	if t.fd < 0 {
		return t.root.Remove(name)
	}
	dfd, base, err := t.dir("remove", name)
	if err != nil {
		return err
	}
	defer t.release(dfd)
	err = unix.Unlinkat(dfd, base, 0)
	if err == unix.EISDIR {
		err = unix.Unlinkat(dfd, base, unix.AT_REMOVEDIR)
	}
	if err != nil {
		return symlinkErr("remove", name, err)
	}
	return nil
}

// Rename moves oldname to newname, replacing a file there.
func (t *tree) Rename(oldname, newname string) error {
	if t.fd < 0 {
		return t.root.Rename(oldname, newname)
	}
	ofd, obase, err := t.dir("rename", oldname)
	if err != nil {
		return err
	}
	defer t.release(ofd)
	nfd, nbase := ofd, path.Base(newname)
	if path.Dir(oldname) != path.Dir(newname) {
		if nfd, nbase, err = t.dir("rename", newname); err != nil {
			return err
		}
		defer t.release(nfd)
	}
	if err := unix.Renameat(ofd, obase, nfd, nbase); err != nil {
		return symlinkErr("rename", oldname, err)
	}
	return nil
}

// statInfo is an fs.FileInfo from fstatat.
type statInfo struct {
	name string
	st   unix.Stat_t
}

func (s *statInfo) Name() string       { return s.name }
func (s *statInfo) Size() int64        { return s.st.Size }
func (s *statInfo) ModTime() time.Time { return time.Unix(s.st.Mtim.Unix()) }
func (s *statInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s *statInfo) Sys() any           { return &s.st }
func (s *statInfo) Mode() fs.FileMode {
	m := fs.FileMode(s.st.Mode & 0o777)
	switch s.st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFREG:
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	default:
		m |= fs.ModeIrregular
	}
	return m
}
