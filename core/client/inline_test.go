package client_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"dfs/core"
	"dfs/internal/testcluster"
)

// TestSmallFilesInline: files whose chunks fit wire.MaxInlineChunk are kept
// inside the nodes' metadata (no chunk files), and behave like any other:
// each node down in turn, heal after a node missed them, an overwrite while
// a reader is on the old version.
func TestSmallFilesInline(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	files := map[string][]byte{"empty": {}, "one": {1}, "small": randBytes(t, 4096), "edge": randBytes(t, 4*8192)}
	for name, data := range files {
		mustPut(t, cl, name, data)
	}
	for n := 0; n < core.NumNodes; n++ {
		if got := chunkFiles(t, c.Dir(n)); len(got) != 0 {
			t.Fatalf("DFS%d has chunk files for small files: %v", n+1, got)
		}
	}
	for n := 0; n < core.NumNodes; n++ {
		c.Stop(n)
		for name, data := range files {
			mustGet(t, cl, name, data)
		}
		c.Restart(n)
	}
	// Written while DFS2 was down, healed after.
	c.Stop(1)
	late := randBytes(t, 3000)
	mustPut(t, cl, "late", late)
	c.Restart(1)
	mustHeal(t, cl)
	mustStatus(t, cl, true)
	c.Stop(0)
	c.Stop(2)
	mustGet(t, cl, "late", late)
	c.Restart(0)
	c.Restart(2)

	// A reader on the old version keeps reading it after an overwrite.
	f, err := cl.Open(ctxT(t), "small")
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, cl, "small", randBytes(t, 4096))
	buf := make([]byte, 4096)
	if _, err := f.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, files["small"]) {
		t.Fatalf("old version after an overwrite: %v", err)
	}
	// A corrupt meta is not served: the other copy is.
	metas, _ := filepath.Glob(filepath.Join(entryDir(t, cl, c.Dir(0), "alice", "one"), "@meta"))
	if len(metas) != 1 {
		t.Fatalf("meta of one: %v", metas)
	}
	if err := os.WriteFile(metas[0], []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustGet(t, cl, "one", []byte{1})
}
