package conf

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func loadUsers(t *testing.T, path string) *Users {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u, err := ParseServer(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func checkPassword(t *testing.T, u *Users, name, pw string, want bool) {
	t.Helper()
	l, ok := u.Login(name)
	if !ok {
		t.Fatalf("no user %q", name)
	}
	if got := l == testLogin(name, pw); got != want {
		t.Errorf("password %q of %s: %v; want %v", pw, name, got, want)
	}
}

func TestEditRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dfs.conf")
	if err := SetPassword(path, "alice", "x"); err == nil {
		t.Error("SetPassword on a missing file: no error")
	}
	if err := AddUser(path, "alice", "one"); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("created with mode %v", st.Mode().Perm())
	}
	checkPassword(t, loadUsers(t, path), "alice", "one", true)

	// A hand-written comment, no final newline: both survive.
	data, _ := os.ReadFile(path)
	os.WriteFile(path, append([]byte("# keep me\r\n"), append(data, "# tail"...)...), 0o600)

	if err := AddUser(path, "alice", "two"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("AddUser twice: %v", err)
	}
	if err := AddUser(path, ".bad", "two"); err == nil {
		t.Error("AddUser of a bad name: no error")
	}
	if err := AddUser(path, "bob", ""); err == nil {
		t.Error("AddUser with an empty password: no error")
	}
	if err := AddUser(path, "bob", "b"); err != nil {
		t.Fatal(err)
	}
	if err := SetPassword(path, "alice", "three"); err != nil {
		t.Fatal(err)
	}
	u := loadUsers(t, path)
	checkPassword(t, u, "alice", "three", true)
	checkPassword(t, u, "alice", "one", false)
	checkPassword(t, u, "bob", "b", true)
	data, _ = os.ReadFile(path)
	if !strings.HasPrefix(string(data), "# keep me\r\n") || !strings.Contains(string(data), "# tail\nUsername: bob\n") {
		t.Errorf("comments lost:\n%s", data)
	}

	if err := SetPassword(path, "carol", "x"); err == nil {
		t.Error("SetPassword of a missing user: no error")
	}
	if err := DelUser(path, "carol"); err == nil {
		t.Error("DelUser of a missing user: no error")
	}
	if err := DelUser(path, "alice"); err != nil {
		t.Fatal(err)
	}
	u = loadUsers(t, path)
	if names := u.Names(); len(names) != 1 || names[0] != "bob" {
		t.Errorf("after DelUser: %q", names)
	}
	data, _ = os.ReadFile(path)
	if !strings.HasPrefix(string(data), "# keep me\r\n# tail\nUsername: bob\n") {
		t.Errorf("after DelUser:\n%s", data)
	}
	// No temp files left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

// TestSetPasswordRepairsPlaintext: a proof-of-concept dfs.conf does not
// parse, and SetPassword is how it is fixed.
func TestSetPasswordRepairsPlaintext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dfs.conf")
	os.WriteFile(path, []byte("Username: Alice\nPassword: Crimson33\n"), 0o600)
	if _, err := OpenUserDB(path); err == nil || !strings.Contains(err.Error(), "dfsnode user passwd Alice") {
		t.Errorf("OpenUserDB of plaintext: %v", err)
	}
	if err := SetPassword(path, "Alice", "Crimson33"); err != nil {
		t.Fatal(err)
	}
	checkPassword(t, loadUsers(t, path), "Alice", "Crimson33", true)
}

func TestAddUserConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dfs.conf")
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- AddUser(path, fmt.Sprintf("user%d", i), "pw") })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if u := loadUsers(t, path); u.Len() != n {
		t.Errorf("%d users, want %d: %q", u.Len(), n, u.Names())
	}
}

// TestSetQuota: the Quota line goes after the user's Password line, is
// replaced in place, and goes with "none" and with the user.
func TestSetQuota(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dfs.conf")
	h := testLogin("alice", "Crimson33")
	os.WriteFile(path, []byte("Username: alice\r\n  Password: "+h+"\r\n# bob next\nUsername: bob\nPassword: "+h), 0o600)
	if err := SetQuota(path, "carol", 1<<30); err == nil {
		t.Error("SetQuota of a missing user: no error")
	}
	if err := SetQuota(path, "alice", 10<<30); err != nil {
		t.Fatal(err)
	}
	if err := SetQuota(path, "bob", 512<<20); err != nil {
		t.Fatal(err)
	}
	want := "Username: alice\r\n  Password: " + h + "\r\n  Quota: 10G\r\n# bob next\nUsername: bob\nPassword: " + h + "\nQuota: 512M\n"
	if data, _ := os.ReadFile(path); string(data) != want {
		t.Errorf("after SetQuota:\n%q\nwant\n%q", data, want)
	}
	if err := SetQuota(path, "alice", 3<<40); err != nil {
		t.Fatal(err)
	}
	if err := SetQuota(path, "bob", 0); err != nil {
		t.Fatal(err)
	}
	u := loadUsers(t, path)
	if a, b := u.Quota("alice"), u.Quota("bob"); a != 3<<40 || b != 0 {
		t.Errorf("quotas %d, %d; want 3T and none", a, b)
	}
	if err := SetQuota(path, "bob", 0); err != nil { // none again: nothing to remove
		t.Fatal(err)
	}
	if err := DelUser(path, "alice"); err != nil {
		t.Fatal(err)
	}
	want = "# bob next\nUsername: bob\nPassword: " + h + "\n"
	if data, _ := os.ReadFile(path); string(data) != want {
		t.Errorf("after DelUser:\n%q\nwant\n%q", data, want)
	}
}

// TestSetQuotaRepairs: a bad Quota line keeps the file from loading, and
// SetQuota is how it is fixed.
func TestSetQuotaRepairs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dfs.conf")
	os.WriteFile(path, []byte("Username: alice\nPassword: "+testLogin("alice", "Crimson33")+"\nQuota: lots\n"), 0o600)
	if _, err := OpenUserDB(path); err == nil || !strings.Contains(err.Error(), "dfs.conf:3:") {
		t.Errorf("OpenUserDB with a bad quota: %v", err)
	}
	if err := SetQuota(path, "alice", 1<<30); err != nil {
		t.Fatal(err)
	}
	if q := loadUsers(t, path).Quota("alice"); q != 1<<30 {
		t.Errorf("quota %d", q)
	}
}
