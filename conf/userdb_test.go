package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dfs/core/crypt"
)

var binding = []byte("a connection's binding")

func prove(user, pw string) string { return crypt.DeriveRoot(user, pw).Prove(user, binding) }

// check logs user in with pw on the test binding.
func check(db *UserDB, user, pw string) bool {
	ok, err := db.Check(user, binding, prove(user, pw))
	return ok && err == nil
}

func TestUserDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dfs.conf")
	if _, err := OpenUserDB(path); err == nil {
		t.Error("OpenUserDB of a missing file: no error")
	}
	h1, h2 := testLogin("Alice", "Crimson33"), testLogin("Bob", "Velvet77")
	os.WriteFile(path, []byte("Username: Alice\nPassword: "+h1+"\n"), 0o600)
	db, err := OpenUserDB(path)
	if err != nil {
		t.Fatal(err)
	}
	if !check(db, "Alice", "Crimson33") {
		t.Error("right password refused")
	}
	if check(db, "Alice", "Velvet77") {
		t.Error("wrong password accepted")
	}
	if check(db, "Bob", "Velvet77") {
		t.Error("unknown user accepted")
	}

	// An edit in place (same inode); the mtime is moved explicitly since
	// two writes can land in the same mtime tick.
	mtime := time.Now().Add(time.Hour)
	os.WriteFile(path, []byte("Username: Bob\nPassword: "+h2+"\n"), 0o600)
	os.Chtimes(path, mtime, mtime)
	if !check(db, "Bob", "Velvet77") || db.Err() != nil {
		t.Errorf("edit not picked up: %v", db.Err())
	}
	if check(db, "Alice", "Crimson33") {
		t.Error("removed user still accepted")
	}

	// A broken edit keeps the last good users and reports why.
	os.WriteFile(path, []byte("Username: Bob\nPassword: Velvet77\n"), 0o600)
	os.Chtimes(path, mtime.Add(time.Hour), mtime.Add(time.Hour))
	if !check(db, "Bob", "Velvet77") {
		t.Error("last good users dropped")
	}
	if err := db.Err(); err == nil || !strings.Contains(err.Error(), "dfs.conf:2:") {
		t.Errorf("Err() = %v", err)
	}

	// An atomic edit (new inode) repairs it.
	if err := SetPassword(path, "Bob", "new"); err != nil {
		t.Fatal(err)
	}
	if !check(db, "Bob", "new") || db.Err() != nil {
		t.Errorf("atomic edit not picked up: %v", db.Err())
	}
	if db.Users().Len() != 1 {
		t.Errorf("users %q", db.Users().Names())
	}

	// A quota set while the node runs applies to the next check.
	if q := db.Quota("Bob"); q != 0 {
		t.Errorf("Quota(Bob) = %d before any", q)
	}
	if err := SetQuota(path, "Bob", 5<<30); err != nil {
		t.Fatal(err)
	}
	if q := db.Quota("Bob"); q != 5<<30 {
		t.Errorf("Quota(Bob) = %d after SetQuota, want 5G", q)
	}

	// A node's PASSWD edits the file through the same database.
	if err := db.SetLogin("Bob", testLogin("Bob", "newer")); err != nil {
		t.Fatal(err)
	}
	if !check(db, "Bob", "newer") || check(db, "Bob", "new") {
		t.Error("SetLogin not picked up by Check")
	}
	if err := db.SetLogin("Bob", "newer"); err == nil {
		t.Error("SetLogin of a password, not a verifier: no error")
	}

	// A proof is good on its connection only.
	if ok, _ := db.Check("Bob", []byte("another connection"), prove("Bob", "newer")); ok {
		t.Error("a proof for another binding accepted")
	}
}

// TestUserDBOldHash: a user whose line predates the verifiers is refused
// with a message that says what to do; the others log in.
func TestUserDBOldHash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dfs.conf")
	os.WriteFile(path, []byte("Username: Alice\nPassword: "+phc(19456, 2, 1, 16, 32)+"\n"), 0o600)
	if err := AddUser(path, "Bob", "Velvet77"); err != nil {
		t.Fatal(err)
	}
	db, err := OpenUserDB(path)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := db.Check("Alice", binding, prove("Alice", "Crimson33"))
	if ok || err == nil || err.Error() != "user Alice's password entry predates end-to-end keys: set it again with dfsnode user passwd" {
		t.Errorf("old line: %v, %v", ok, err)
	}
	if ok, err := db.Check("Bob", binding, prove("Bob", "Velvet77")); !ok || err != nil {
		t.Errorf("Bob: %v, %v", ok, err)
	}
}
