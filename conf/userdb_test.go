package conf

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
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
	if err := db.SetPassword("Bob", "newer"); err != nil {
		t.Fatal(err)
	}
	if !db.Check("Bob", "newer") || db.Check("Bob", "new") {
		t.Error("SetPassword not picked up by Check")
	}
}

// TestConcurrentLoginsOneCheck: logins with the same credentials at once
// (a mount opening its connections) wait for one argon2 check instead of
// each running one, right or wrong.
func TestConcurrentLoginsOneCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dfs.conf")
	if err := AddUser(path, "Alice", "Crimson33"); err != nil {
		t.Fatal(err)
	}
	db, err := OpenUserDB(path)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	release := make(chan struct{})
	db.verify = func(hash, pw string) (bool, error) {
		calls.Add(1)
		<-release // every login arrives while the first check runs
		return VerifyPassword(hash, pw)
	}
	for _, c := range []struct {
		pw   string
		want bool
	}{{"wrong", false}, {"Crimson33", true}} {
		calls.Store(0)
		results := make(chan bool)
		for range 8 {
			go func() { results <- db.Check("Alice", c.pw) }()
		}
		time.Sleep(100 * time.Millisecond)
		close(release)
		for range 8 {
			if got := <-results; got != c.want {
				t.Errorf("password %q: %v, want %v", c.pw, got, c.want)
			}
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("password %q: %d argon2 checks for 8 concurrent logins, want 1", c.pw, n)
		}
		release = make(chan struct{})
	}
}
