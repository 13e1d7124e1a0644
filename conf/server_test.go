package conf

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"dfs/core/crypt"
)

// testLogin is the verifier of user's password pw (crypt caches the
// argon2 work per process, so tests share it).
func testLogin(user, pw string) string { return crypt.LoginFor(user, pw) }

// phc builds an old argon2id line with the given parameters and lengths.
func phc(m, t, p, saltLen, keyLen int) string {
	b := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p,
		b.EncodeToString(make([]byte, saltLen)), b.EncodeToString(make([]byte, keyLen)))
}

func TestValidUserName(t *testing.T) {
	for _, good := range []string{"a", "Alice", "bob.smith", "x_y-z", "0", strings.Repeat("a", 64), "a."} {
		if err := ValidUserName(good); err != nil {
			t.Errorf("ValidUserName(%q) = %v", good, err)
		}
	}
	for _, bad := range []string{"", ".", "..", ".a", "a/b", "a b", "é", strings.Repeat("a", 65), "a\x00"} {
		if err := ValidUserName(bad); err == nil {
			t.Errorf("ValidUserName(%q): no error", bad)
		}
	}
}

func TestParseServerGood(t *testing.T) {
	h1, h2 := testLogin("Alice", "Crimson33"), testLogin("Bob", "Velvet77")
	in := "# users\r\n\r\nUsername: Alice\r\nPassword: " + h1 + "\r\n" +
		"  username :  Bob # the second\n\t# between\n  PASSWORD:" + h2 + "   # comment\n"
	u, err := ParseServer("dfs.conf", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Names(); u.Len() != 2 || got[0] != "Alice" || got[1] != "Bob" {
		t.Errorf("names %q", got)
	}
	if h, ok := u.Login("Bob"); !ok || h != h2 {
		t.Errorf("Login(Bob) = %q, %v", h, ok)
	}
	if _, ok := u.Login("Eve"); ok {
		t.Error("Login(Eve) found")
	}
	if q := u.Quota("Alice"); q != 0 {
		t.Errorf("Quota(Alice) = %d without a Quota line", q)
	}
	if u, err := ParseServer("dfs.conf", []byte("# nobody yet\n")); err != nil || u.Len() != 0 {
		t.Errorf("empty: %v, %v", u, err)
	}
}

func TestParseServerQuota(t *testing.T) {
	h := testLogin("Alice", "Crimson33")
	in := "Username: Alice\nPassword: " + h + "\nQuota: 10G\n" +
		"Username: Bob\n  quota:1536MiB # before the password is fine\nPassword: " + h + "\n" +
		"Username: Carol\nPassword: " + h + "\nQuota: none\n" +
		"Username: Dave\nPassword: " + h + "\n"
	u, err := ParseServer("dfs.conf", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int64{"Alice": 10 << 30, "Bob": 1536 << 20, "Carol": 0, "Dave": 0, "Eve": 0} {
		if got := u.Quota(name); got != want {
			t.Errorf("Quota(%s) = %d, want %d", name, got, want)
		}
	}
}

func TestParseServerBad(t *testing.T) {
	h := testLogin("Alice", "Crimson33")
	tests := []struct{ in, want string }{
		// The proof of concept's dfs.conf: plaintext passwords.
		{"Username: Alice\nPassword: Crimson33\nUsername: Bob\nPassword: Velvet77\n",
			`dfs.conf:2: password of user "Alice" is not a login verifier; set it with: dfsnode user passwd Alice`},
		{"Username: Alice\nPassword: " + h + "\n\nUsername: Alice\nPassword: " + h + "\n", `dfs.conf:4: user "Alice" again (first on line 1)`},
		{"Password: " + h + "\n", `dfs.conf:1: Password line without a Username line before it`},
		{"Username: Alice\nUsername: Bob\n", `dfs.conf:2: Username line, want the Password line for the user on line 1`},
		{"# x\nUsername: Alice\n\n", `dfs.conf:2: user "Alice" has no Password line`},
		{"Username: Alice\nPassword: ed25519:AAAA\n", `dfs.conf:2: user "Alice": bad dfs login verifier; set the password again with: dfsnode user passwd Alice`},
		{"Username: al/ice\n", `dfs.conf:1: user name "al/ice" has "/"`},
		{"Server DFS1 127.0.0.1:10001\n", `dfs.conf:1: unknown key "Server" (want Username, Password or Quota)`},
		{"Quota: 10G\nUsername: Alice\nPassword: " + h + "\n", `dfs.conf:1: Quota line without a Username line before it`},
		{"Username: Alice\nPassword: " + h + "\nQuota: 1G\nQuota: 2G\n", `dfs.conf:4: user "Alice" has a Quota line already (line 3)`},
		{"Username: Alice\nPassword: " + h + "\nQuota: 10 gigs\n", `dfs.conf:3: user "Alice": quota: size "10 gigs": want a number of bytes`},
		{"Username: Alice\nPassword: " + h + "\nQuota: 0\n", `dfs.conf:3: user "Alice": quota 0 would let the user store nothing`},
		{"Username Alice\n:Password x\n", `dfs.conf:2: cannot read ":Password x"`},
	}
	for _, tt := range tests {
		_, err := ParseServer("dfs.conf", []byte(tt.in))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseServer(%q)\n got error %v\nwant prefix %s", tt.in, err, tt.want)
		}
	}
}

// TestParseServerOldHash: a line from before the end-to-end keys parses
// (the node serves its other users) and is there for Check to refuse.
func TestParseServerOldHash(t *testing.T) {
	u, err := ParseServer("dfs.conf", []byte("Username: Alice\nPassword: "+phc(19456, 2, 1, 16, 32)+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := u.Login("Alice"); !ok || !strings.HasPrefix(l, oldHashPrefix) {
		t.Errorf("Login(Alice) = %q, %v", l, ok)
	}
}
