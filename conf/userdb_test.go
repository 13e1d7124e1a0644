package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUserDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dfs.conf")
	if _, err := OpenUserDB(path); err == nil {
		t.Error("OpenUserDB of a missing file: no error")
	}
	h1, h2 := testHashes()["Crimson33"], testHashes()["Velvet77"]
	os.WriteFile(path, []byte("Username: Alice\nPassword: "+h1+"\n"), 0o600)
	db, err := OpenUserDB(path)
	if err != nil {
		t.Fatal(err)
	}
	if !db.Check("Alice", "Crimson33") {
		t.Error("right password refused")
	}
	if db.Check("Alice", "Velvet77") {
		t.Error("wrong password accepted")
	}
	if db.Check("Bob", "Velvet77") {
		t.Error("unknown user accepted")
	}

	// An edit in place (same inode); the mtime is moved explicitly since
	// two writes can land in the same mtime tick.
	mtime := time.Now().Add(time.Hour)
	os.WriteFile(path, []byte("Username: Bob\nPassword: "+h2+"\n"), 0o600)
	os.Chtimes(path, mtime, mtime)
	if !db.Check("Bob", "Velvet77") || db.Err() != nil {
		t.Errorf("edit not picked up: %v", db.Err())
	}
	if db.Check("Alice", "Crimson33") {
		t.Error("removed user still accepted")
	}

	// A broken edit keeps the last good users and reports why.
	os.WriteFile(path, []byte("Username: Bob\nPassword: Velvet77\n"), 0o600)
	os.Chtimes(path, mtime.Add(time.Hour), mtime.Add(time.Hour))
	if !db.Check("Bob", "Velvet77") {
		t.Error("last good users dropped")
	}
	if err := db.Err(); err == nil || !strings.Contains(err.Error(), "dfs.conf:2:") {
		t.Errorf("Err() = %v", err)
	}

	// An atomic edit (new inode) repairs it.
	if err := SetPassword(path, "Bob", "new"); err != nil {
		t.Fatal(err)
	}
	if !db.Check("Bob", "new") || db.Err() != nil {
		t.Errorf("atomic edit not picked up: %v", db.Err())
	}
	if db.Users().Len() != 1 {
		t.Errorf("users %q", db.Users().Names())
	}
}
