//go:build linux

package mount

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"dfs/internal/testcluster"
)

// TestSegmentsMeasure times what issue 14 is about on a 256 MiB file: its
// write (and the cache folder's peak), `echo >> f`, and a 4 KiB overwrite
// with fsync. It only reports; set DFS_MEASURE=1 to run it.
func TestSegmentsMeasure(t *testing.T) {
	if os.Getenv("DFS_MEASURE") != "1" {
		t.Skip("set DFS_MEASURE=1")
	}
	c := testcluster.Start(t)
	opts := testOptions(t)
	mp := mountOptsT(t, c.Client(t, "alice", "Crimson33"), opts)
	p := filepath.Join(mp, "f")
	data := randomBytes(256<<20, 7)
	stop := watchCache(opts.CacheDir)
	start := time.Now()
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	took, peak := time.Since(start), stop()
	t.Logf("write 256 MiB: %v, cache folder peak %d bytes (%.1f segments)", took, peak, float64(peak)/float64(segSize))
	for i := 0; i < 3; i++ {
		start = time.Now()
		if out, err := exec.Command("sh", "-c", "echo >> "+p).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		t.Logf("echo >> f (256 MiB): %v", time.Since(start))
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 0; i < 3; i++ {
		start = time.Now()
		if _, err := f.WriteAt(data[:4096], int64(i)*100<<20+8192); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		t.Logf("4 KiB overwrite + fsync (256 MiB): %v", time.Since(start))
	}
}
