//go:build linux

package mount

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dfs/internal/testcluster"
)

// TestSpaceReturns: overwrites, renames (of files and of the folder
// holding them, as git does with its packs) and deletes through the mount
// leave, once the nodes' grace for readers of replaced versions is over,
// exactly the live data on the nodes, without a restart. Superseded chunks
// under a renamed folder once stayed until the node restarted.
func TestSpaceReturns(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t, testcluster.Grace(500*time.Millisecond))
	mp := mountT(t, c.Client(t, "alice", "Crimson33"))
	write := func(name string, size int) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(mp, name), randomBytes(size, int64(size)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(mp, "repo/objects"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		write(fmt.Sprintf("repo/objects/pack%d", i), 1<<20)
		write(fmt.Sprintf("repo/objects/pack%d", i), 2<<20) // overwrite
	}
	write("repo/objects/tmp", 3<<20)
	mv := func(from, to string) {
		t.Helper()
		if err := os.Rename(filepath.Join(mp, from), filepath.Join(mp, to)); err != nil {
			t.Fatal(err)
		}
	}
	mv("repo/objects/tmp", "repo/objects/pack0") // replaces a file
	mv("repo/objects", "repo/store")             // moves the folder with the superseded versions' entries
	mv("repo", "repo2")
	if err := os.Remove(filepath.Join(mp, "repo2/store/pack1")); err != nil {
		t.Fatal(err)
	}
	live := int64(3<<20 + 2*(2<<20)) // pack0 (from tmp), pack2, pack3
	eventually(t, 15*time.Second, "the nodes keep more than the live data", func() error {
		got := chunkBytes(t, c)
		// Two copies of every byte, plus each chunk file's header and
		// block checksums.
		want := 2 * live
		if got < want || got > want+want/1000+64<<10 {
			return fmt.Errorf("chunk files hold %d bytes, the live data twice is %d", got, want)
		}
		return nil
	})
}

// chunkBytes sums the sizes of the stored segments' chunk files on every
// node (users/<u>/segments/<xx>/<id>.c<N>).
func chunkBytes(t *testing.T, c *testcluster.Cluster) int64 {
	var total int64
	for _, f := range chunkFiles(t, c) {
		total += f
	}
	return total
}

// chunkFiles maps the stored segments' chunk files on every node (by node
// folder and path) to their sizes.
func chunkFiles(t *testing.T, c *testcluster.Cluster) map[string]int64 {
	files := map[string]int64{}
	for n := 0; n < 4; n++ {
		filepath.WalkDir(c.Dir(n), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.Contains(p, "/segments/") || !strings.Contains(d.Name(), ".c") {
				return nil
			}
			if fi, err := d.Info(); err == nil {
				files[p] = fi.Size()
			}
			return nil
		})
	}
	return files
}
