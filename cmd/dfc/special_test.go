package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSymlinkTree: put -r stores a symlink as a symlink (not what it points
// to), list shows it as name -> target, and get -r makes it again.
func TestSymlinkTree(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	tree := filepath.Join(dir, "proj")
	os.MkdirAll(filepath.Join(tree, "sub"), 0o755)
	data := randomFile(t, filepath.Join(tree, "sub", "f.txt"), 1000)
	if err := os.Symlink("sub/f.txt", filepath.Join(tree, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nowhere/at/all", filepath.Join(tree, "sub", "dangling")); err != nil {
		t.Fatal(err)
	}
	r := c.ok(dir, "put", "-r", tree)
	if !strings.Contains(r.Stdout, "stored proj/link -> sub/f.txt") {
		t.Errorf("put -r said %q", r.Stdout)
	}
	r = c.ok(dir, "list", "proj/")
	if !strings.Contains(r.Stdout, "proj/link -> sub/f.txt") || !strings.Contains(r.Stdout, "proj/sub/dangling -> /nowhere/at/all") {
		t.Errorf("list: %q", r.Stdout)
	}
	// Again: the symlinks are there already, nothing fails.
	c.ok(dir, "put", "-r", tree)

	out := filepath.Join(dir, "back")
	c.ok(dir, "get", "-r", "proj", out)
	sameFile(t, filepath.Join(out, "sub", "f.txt"), data)
	for link, want := range map[string]string{"link": "sub/f.txt", "sub/dangling": "/nowhere/at/all"} {
		if got, err := os.Readlink(filepath.Join(out, link)); err != nil || got != want {
			t.Errorf("restored %s: %q %v, want %q", link, got, err, want)
		}
	}
	sameFile(t, filepath.Join(out, "link"), data) // through the link
	// get of the one symlink makes a symlink.
	c.ok(dir, "get", "proj/link", filepath.Join(dir, "one"))
	if got, err := os.Readlink(filepath.Join(dir, "one")); err != nil || got != "sub/f.txt" {
		t.Errorf("get of a symlink: %q %v", got, err)
	}
}
