//go:build linux

package mount

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMountRoot uses the mount point itself as a shell user does first:
// ls, stat, df, cd and mkdir -p of it, again and again right after it was
// listed (a listing of the top folder once made the top folder itself
// vanish: GETATTR answered ENOENT while the listing was fresh).
func TestMountRoot(t *testing.T) {
	t.Parallel()
	_, _, mp := setup(t)
	tmp := t.TempDir()
	if err := os.WriteFile(filepath.Join(mp, "hello.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		time.Sleep(1100 * time.Millisecond) // the kernel's attributes of the top folder expire
		if _, err := os.ReadDir(mp); err != nil {
			t.Fatalf("round %d: list the mount point: %v", i, err)
		}
		fi, err := os.Stat(mp)
		if err != nil || !fi.IsDir() {
			t.Fatalf("round %d: stat of the mount point right after listing it: %v, %v", i, fi, err)
		}
		run(t, tmp, "ls", mp)
		run(t, tmp, "stat", mp)
		run(t, tmp, "ls", "-la", mp+"/")
		run(t, tmp, "df", mp)
		run(t, tmp, "sh", "-c", `cd "$1" && ls -la . >/dev/null && pwd`, "sh", mp)
		run(t, tmp, "mkdir", "-p", filepath.Join(mp, "a", "b"))
		if got, err := os.ReadFile(filepath.Join(mp, "hello.txt")); err != nil || string(got) != "hello\n" {
			t.Fatalf("round %d: read back: %q, %v", i, got, err)
		}
	}
}
