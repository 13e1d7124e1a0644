package conf

import (
	"reflect"
	"strings"
	"testing"
)

func FuzzParseClient(f *testing.F) {
	f.Add([]byte(seedClient))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseClient("dfc.conf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "dfc.conf:") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		if len(c.Servers) != NumServers {
			t.Fatalf("%d servers", len(c.Servers))
		}
		again, err := ParseClient("dfc.conf", data)
		if err != nil || !reflect.DeepEqual(c, again) {
			t.Fatalf("re-parse: %+v, %v; first %+v", again, err, c)
		}
		// The parsed values, written out canonically, parse to the same.
		var b strings.Builder
		for _, s := range c.Servers {
			b.WriteString("Server " + s.Name + " " + s.Addr + " " + s.Pin + "\n")
		}
		if c.User != "" {
			b.WriteString("Username: " + c.User + "\n")
		}
		if c.Password != "" {
			b.WriteString("Password: " + c.Password + "\n")
		}
		if c.Plaintext {
			b.WriteString("Transport: plaintext-insecure\n")
		}
		canon, err := ParseClient("dfc.conf", []byte(b.String()))
		if err != nil || !reflect.DeepEqual(c, canon) {
			t.Fatalf("canonical form %q: %+v, %v; want %+v", b.String(), canon, err, c)
		}
	})
}

func FuzzParseServer(f *testing.F) {
	f.Add([]byte("Username: Alice\nPassword: " + phc(19456, 2, 1, 16, 32) + "\n"))
	f.Add([]byte("Username: Alice\nPassword: ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := ParseServer("dfs.conf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "dfs.conf:") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		again, err := ParseServer("dfs.conf", data)
		if err != nil || !reflect.DeepEqual(u, again) {
			t.Fatalf("re-parse: %+v, %v; first %+v", again, err, u)
		}
		var b strings.Builder
		for _, name := range u.Names() {
			h, ok := u.Login(name)
			if !ok {
				t.Fatalf("name %q without a hash", name)
			}
			b.WriteString("Username: " + name + "\nPassword: " + h + "\n")
			if q := u.Quota(name); q > 0 {
				b.WriteString("Quota: " + FormatSize(q) + "\n")
			}
		}
		canon, err := ParseServer("dfs.conf", []byte(b.String()))
		if err != nil || !reflect.DeepEqual(u, canon) {
			t.Fatalf("canonical form %q: %+v, %v; want %+v", b.String(), canon, err, u)
		}
	})
}
