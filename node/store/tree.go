package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"syscall"
)

// tree is a user's folder: every name is resolved inside it and no symlink
// is ever followed, as with os.Root. os.Root walks a name one component at
// a time (an openat and a close for each folder on the way); where the
// kernel can resolve a whole name under these rules in one call (Linux's
// openat2 with RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS), tree does, which
// matters because every request touches a few names several folders deep.
type tree struct {
	root *os.Root // the fallback, and operations without a fast path
	fd   int      // the folder's descriptor for openat2; -1 where there is none
}

func openTree(dir string) (*tree, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &tree{root: r, fd: fastFD(r)}, nil
}

// RemoveAll removes name and everything under it.
func (t *tree) RemoveAll(name string) error { return t.root.RemoveAll(name) }

// symlinkErr turns the errors of a name that ran into a symlink (or out of
// the folder) into ErrSymlink, keeping the name.
func symlinkErr(op, name string, err error) error {
	if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EXDEV) {
		return fmt.Errorf("%s %s: %w", op, name, ErrSymlink)
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// split returns a name's folder ("" for the tree's top) and last part.
func split(name string) (string, string) {
	d, b := path.Split(name)
	if d != "" {
		d = d[:len(d)-1]
	}
	return d, b
}
