package conf

import (
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// testHashes holds hashes made once per test binary: argon2 is slow under
// -race, so tests share them.
var testHashes = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, pw := range []string{"Crimson33", "Velvet77"} {
		h, err := HashPassword(pw)
		if err != nil {
			panic(err)
		}
		m[pw] = h
	}
	return m
})

// phc builds an argon2id string with the given parameters and lengths.
func phc(m, t, p, saltLen, keyLen int) string {
	b := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p,
		b.EncodeToString(make([]byte, saltLen)), b.EncodeToString(make([]byte, keyLen)))
}

func TestHashPassword(t *testing.T) {
	h := testHashes()["Crimson33"]
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q", h)
	}
	if ok, err := VerifyPassword(h, "Crimson33"); !ok || err != nil {
		t.Errorf("right password: %v, %v", ok, err)
	}
	if ok, err := VerifyPassword(h, "crimson33"); ok || err != nil {
		t.Errorf("wrong password: %v, %v", ok, err)
	}
	if _, err := HashPassword(""); err == nil {
		t.Error("HashPassword(\"\"): no error")
	}
	if ok, err := VerifyPassword("Crimson33", "Crimson33"); ok || err == nil {
		t.Error("plaintext hash verified")
	}
}

func TestParseHashRefusesWeak(t *testing.T) {
	tests := []struct{ hash, want string }{
		{phc(19456, 2, 1, 16, 32), ""},
		{phc(65536, 3, 4, 32, 64), ""},
		{phc(19455, 2, 1, 16, 32), "weaker than m=19456,t=2,p=1"},
		{phc(19456, 1, 1, 16, 32), "weaker"},
		{phc(19456, 2, 0, 16, 32), "weaker"},
		{phc(19456, 2, 1, 15, 32), "salt is 15 bytes"},
		{phc(19456, 2, 1, 16, 31), "key is 31 bytes"},
		{phc(1<<23, 2, 1, 16, 32), "out of range"},
		{phc(19456, 2, 256, 16, 32), "out of range"},
		{strings.Replace(phc(19456, 2, 1, 16, 32), "v=19", "v=16", 1), "version"},
		{strings.Replace(phc(19456, 2, 1, 16, 32), "$argon2id$", "$argon2i$", 1), "not an argon2id hash"},
		{strings.Replace(phc(19456, 2, 1, 16, 32), "t=2,p=1", "p=1,t=2", 1), "parameters"},
		{phc(19456, 2, 1, 16, 32) + "$", "malformed"},
		{phc(19456, 2, 1, 16, 32) + "==", "not unpadded base64"},
	}
	for _, tt := range tests {
		_, err := parseHash(tt.hash)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("parseHash(%q) = %v, want %q", tt.hash, err, tt.want)
		}
	}
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
	h1, h2 := testHashes()["Crimson33"], testHashes()["Velvet77"]
	in := "# users\r\n\r\nUsername: Alice\r\nPassword: " + h1 + "\r\n" +
		"  username :  Bob # the second\n\t# between\n  PASSWORD:" + h2 + "   # comment\n"
	u, err := ParseServer("dfs.conf", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Names(); u.Len() != 2 || got[0] != "Alice" || got[1] != "Bob" {
		t.Errorf("names %q", got)
	}
	if h, ok := u.Hash("Bob"); !ok || h != h2 {
		t.Errorf("Hash(Bob) = %q, %v", h, ok)
	}
	if _, ok := u.Hash("Eve"); ok {
		t.Error("Hash(Eve) found")
	}
	if q := u.Quota("Alice"); q != 0 {
		t.Errorf("Quota(Alice) = %d without a Quota line", q)
	}
	if u, err := ParseServer("dfs.conf", []byte("# nobody yet\n")); err != nil || u.Len() != 0 {
		t.Errorf("empty: %v, %v", u, err)
	}
}

func TestParseServerQuota(t *testing.T) {
	h := phc(19456, 2, 1, 16, 32)
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
	h := phc(19456, 2, 1, 16, 32)
	tests := []struct{ in, want string }{
		// The proof of concept's dfs.conf: plaintext passwords.
		{"Username: Alice\nPassword: Crimson33\nUsername: Bob\nPassword: Velvet77\n",
			`dfs.conf:2: password of user "Alice" is not an argon2id hash; set it with: dfsnode user passwd Alice`},
		{"Username: Alice\nPassword: " + h + "\n\nUsername: Alice\nPassword: " + h + "\n", `dfs.conf:4: user "Alice" again (first on line 1)`},
		{"Password: " + h + "\n", `dfs.conf:1: Password line without a Username line before it`},
		{"Username: Alice\nUsername: Bob\n", `dfs.conf:2: Username line, want the Password line for the user on line 1`},
		{"# x\nUsername: Alice\n\n", `dfs.conf:2: user "Alice" has no Password line`},
		{"Username: Alice\nPassword: " + phc(4096, 3, 1, 16, 32) + "\n", `dfs.conf:2: user "Alice": argon2id parameters m=4096,t=3,p=1 are weaker`},
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
