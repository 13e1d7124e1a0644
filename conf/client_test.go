package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const pinA = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// seedClient is the proof of concept's dfc.conf shape.
const seedClient = `Server DFS1 127.0.0.1:10001
Server DFS2 127.0.0.1:10002
Server DFS3 127.0.0.1:10003
Server DFS4 127.0.0.1:10004
Username: Alice
Password: Crimson33
`

func TestParseClientGood(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want func(*Client) bool
	}{
		{"seed", seedClient, func(c *Client) bool {
			return c.User == "Alice" && c.Password == "Crimson33" && !c.Plaintext &&
				c.Servers[2] == Server{Name: "DFS3", Addr: "127.0.0.1:10003"}
		}},
		{"spacing, comments, crlf, pin, keys in any case", "# my cluster\r\n\r\n" +
			"server\tDFS1   127.0.0.1:10001 " + strings.ToUpper(pinA[:7]) + strings.ToUpper(pinA[7:]) + "  # pinned\r\n" +
			"SERVER: DFS2 [::1]:10002\r\n  Server DFS3 host3:10003 # no pin\r\nServer DFS4 host4:10004\r\n" +
			"username :Bob   # trailing\r\n  password:   pass # word  \r\nTransport: plaintext-insecure\r\n",
			func(c *Client) bool {
				return c.Servers[0].Pin == pinA && c.Servers[1].Addr == "[::1]:10002" &&
					c.Servers[2].Pin == "" && c.User == "Bob" && c.Password == "pass # word" && c.Plaintext
			}},
		{"no user, no password, tls", strings.Join(strings.Split(seedClient, "\n")[:4], "\n") + "\nTransport: TLS", func(c *Client) bool {
			return c.User == "" && c.Password == "" && !c.Plaintext && !c.StrictPins
		}},
		{"strict pins", seedClient + "Pins: Strict # for fstab\n", func(c *Client) bool { return c.StrictPins }},
		{"first-contact pins", seedClient + "pins: first-contact\n", func(c *Client) bool { return !c.StrictPins }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseClient("dfc.conf", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Servers) != NumServers || c.Path != "dfc.conf" || !tt.want(c) {
				t.Errorf("got %+v", c)
			}
		})
	}
}

func TestParseClientBad(t *testing.T) {
	servers := func(lines ...string) string { return strings.Join(lines, "\n") + "\n" }
	s1, s2, s3, s4 := "Server DFS1 127.0.0.1:10001", "Server DFS2 127.0.0.1:10002", "Server DFS3 127.0.0.1:10003", "Server DFS4 127.0.0.1:10004"
	tests := []struct{ in, want string }{
		{servers(s1, s2, "Server DFS3 127.0.0.1", s4), `dfc.conf:3: server address "127.0.0.1" has no port (want HOST:PORT)`},
		{servers(s1, s2, s3), `dfc.conf: 3 Server lines, want 4 (DFS1..DFS4)`},
		{"", `dfc.conf: 0 Server lines, want 4 (DFS1..DFS4)`},
		{servers(s1, s2, s3, s4, "Server DFS5 127.0.0.1:10005"), `dfc.conf:5: more than 4 Server lines`},
		{servers(s1, s3, s2, s4), `dfc.conf:2: server name "DFS3", want DFS2`},
		{servers(s1, s2, s3, "Server DFS4 127.0.0.1:70000"), `dfc.conf:4: server address "127.0.0.1:70000" has bad port "70000"`},
		{servers(s1, s2, s3, "Server DFS4 127.0.0.1:http"), `dfc.conf:4: server address "127.0.0.1:http" has bad port`},
		{servers(s1, s2, s3, "Server DFS4 :10004"), `dfc.conf:4: server address ":10004" has no host`},
		{servers(s1, "Server DFS2"), `dfc.conf:2: server line "DFS2" is short`},
		{servers(s1, "Server DFS2 h:1 sha256:abcd"), `dfc.conf:2: server pin "sha256:abcd" is not sha256: and 64 hex digits`},
		{servers(s1, "Server DFS2 h:1 md5:abcd"), `dfc.conf:2: server pin "md5:abcd" does not start with sha256:`},
		{servers(s1, "Server DFS2 h:1 "+pinA+" extra"), `dfc.conf:2: unexpected "extra" after the server pin`},
		{servers(s1, s2, s3, s4, "Username: Alice", "Username: Bob"), `dfc.conf:6: second Username line (first on line 5)`},
		{servers(s1, s2, s3, s4, "Password: a", "password: b"), `dfc.conf:6: second password line (first on line 5)`},
		{servers(s1, s2, s3, s4, "Password:   "), `dfc.conf:5: empty password`},
		{servers(s1, s2, s3, s4, "Username: .hidden"), `dfc.conf:5: user name ".hidden" starts with '.'`},
		{servers(s1, s2, s3, s4, "Username: a/b"), `dfc.conf:5: user name "a/b" has "/"`},
		{servers(s1, s2, s3, s4, "Transport: udp"), `dfc.conf:5: unknown transport "udp" (want tls or plaintext-insecure)`},
		{servers(s1, s2, s3, s4, "Pins: lax"), `dfc.conf:5: unknown Pins value "lax" (want first-contact or strict)`},
		{servers(s1, s2, s3, s4, "Pins: strict", "Pins: strict"), `dfc.conf:6: second Pins line (first on line 5)`},
		{servers(s1, s2, s3, s4, "Port: 1"), `dfc.conf:5: unknown key "Port"`},
		{servers(s1, "= oops"), `dfc.conf:2: cannot read "= oops"`},
		{servers(s1, "Server2 DFS2 h:1"), `dfc.conf:2: cannot read "Server2 DFS2 h:1"`},
	}
	for _, tt := range tests {
		_, err := ParseClient("dfc.conf", []byte(tt.in))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseClient(%q)\n got error %v\nwant prefix %s", tt.in, err, tt.want)
		}
	}
}

func TestLoadClient(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dfc.conf")
	if _, err := LoadClient(path); err == nil {
		t.Fatal("LoadClient of a missing file: no error")
	}
	os.WriteFile(path, []byte(seedClient), 0o600)
	c, err := LoadClient(path)
	if err != nil || c.Path != path || c.User != "Alice" {
		t.Fatalf("LoadClient = %+v, %v", c, err)
	}
}

func TestSetPin(t *testing.T) {
	in := "# cluster\n\nServer DFS1 h1:1   # first\r\nServer  DFS2\th2:2 " + pinA + "\t# second\n" +
		"Server DFS3 h3:3\n# between\nServer DFS4 h4:4 " + pinA + "\nUsername: Alice\nPassword: x # y"
	path := filepath.Join(t.TempDir(), "dfc.conf")
	os.WriteFile(path, []byte(in), 0o600)
	pinB := "sha256:" + strings.Repeat("ab", 32)
	steps := []struct{ server, pin, old, new string }{
		{"DFS1", pinB, "Server DFS1 h1:1   # first\r\n", "Server DFS1 h1:1 " + pinB + "   # first\r\n"},
		{"DFS2", pinB, "Server  DFS2\th2:2 " + pinA + "\t# second\n", "Server  DFS2\th2:2 " + pinB + "\t# second\n"},
		{"DFS3", strings.ToUpper(pinB), "Server DFS3 h3:3\n", "Server DFS3 h3:3 " + pinB + "\n"},
		{"DFS4", "", "Server DFS4 h4:4 " + pinA + "\n", "Server DFS4 h4:4\n"},
	}
	want := in
	for _, s := range steps {
		if err := SetPin(path, s.server, s.pin); err != nil {
			t.Fatal(err)
		}
		want = strings.Replace(want, s.old, s.new, 1)
		got, _ := os.ReadFile(path)
		if string(got) != want {
			t.Fatalf("after SetPin(%s):\n got %q\nwant %q", s.server, got, want)
		}
	}
	c, err := LoadClient(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{pinB, pinB, pinB, ""} {
		if c.Servers[i].Pin != want {
			t.Errorf("server %d pin %q, want %q", i, c.Servers[i].Pin, want)
		}
	}
	if err := SetPin(path, "DFS9", pinB); err == nil {
		t.Error("SetPin of an unknown server: no error")
	}
	if err := SetPin(path, "DFS1", "sha256:zz"); err == nil {
		t.Error("SetPin of a bad pin: no error")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}
