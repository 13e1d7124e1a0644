//go:build !linux

package store

import (
	"io/fs"
	"os"
)

func fastFD(*os.Root) int { return -1 }

// OpenFile opens name like os.Root.OpenFile.
func (t *tree) OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	return t.root.OpenFile(name, flag, perm)
}

// Open opens name for reading.
func (t *tree) Open(name string) (*os.File, error) { return t.root.Open(name) }

// Lstat describes name without following a symlink there.
func (t *tree) Lstat(name string) (fs.FileInfo, error) { return t.root.Lstat(name) }

// Mkdir makes the folder name.
func (t *tree) Mkdir(name string, perm os.FileMode) error { return t.root.Mkdir(name, perm) }

// Remove removes the file or empty folder name.
func (t *tree) Remove(name string) error { return t.root.Remove(name) }

// Rename moves oldname to newname, replacing a file there.
func (t *tree) Rename(oldname, newname string) error { return t.root.Rename(oldname, newname) }

// Close closes the tree.
func (t *tree) Close() error { return t.root.Close() }

// sameFile reports whether two descriptions are of one file.
func sameFile(a, b fs.FileInfo) bool { return os.SameFile(a, b) }
