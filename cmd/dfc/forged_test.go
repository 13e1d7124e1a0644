package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dfs/core/crypt"
	"dfs/internal/testcluster"
)

// TestStatusForged: an entry rewritten in a node's data folder is not
// served, and dfc status names the node (exit 3), in text and JSON.
func TestStatusForged(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	data := randomFile(t, filepath.Join(dir, "a.txt"), 50_000)
	c.ok(dir, "put", "a.txt")
	c.Kill(0)
	// The entry's folder on DFS1, found as someone with the user's
	// password would: the master key wrapped in the node's key file.
	wrapped, err := os.ReadFile(filepath.Join(c.Dir(0), "users", "alice", "key"))
	if err != nil {
		t.Fatal(err)
	}
	mk, err := crypt.DeriveRoot("alice", testcluster.Users["alice"]).Unwrap("alice", wrapped)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := mk.Keys().EncryptPath("a.txt")
	if err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(c.Dir(0), "users", "alice", "files", enc, "@meta")
	b, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["mode"] = 0o777 // chmod 777, by hand
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(meta, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c.Restart(0)
	c.ok(dir, "get", "a.txt", "back.txt")
	sameFile(t, filepath.Join(dir, "back.txt"), data)
	r := dfc(t, dir, "", "-conf", c.confPath, "status")
	want := "DFS1 served 1 entry that failed authentication (last: a.txt): its data folder was changed outside dfs; the other copies were used"
	if r.Code != 3 || !strings.Contains(r.Stdout, want) {
		t.Errorf("status: exit %d, want 3 and %q\n%s%s", r.Code, want, r.Stdout, r.Stderr)
	}
	r = dfc(t, dir, "", "-conf", c.confPath, "status", "--json")
	var j struct {
		OK     bool `json:"ok"`
		Forged map[string]struct {
			Entries int    `json:"entries"`
			Last    string `json:"last"`
		} `json:"forged"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &j); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r.Stdout)
	}
	if f := j.Forged["DFS1"]; r.Code != 3 || j.OK || f.Entries != 1 || f.Last != "a.txt" {
		t.Errorf("status --json: exit %d, %+v", r.Code, j)
	}
}
