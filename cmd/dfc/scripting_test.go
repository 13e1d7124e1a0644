package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The forms scripts use: get NAME - (stdout), put -r / get -r of folders,
// mkdir -p, list -h, and --json for list, status and where.
func TestScriptingForms(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	tree := filepath.Join(dir, "photos")
	os.MkdirAll(filepath.Join(tree, "2024", "june"), 0o755)
	os.MkdirAll(filepath.Join(tree, "empty"), 0o755)
	a := randomFile(t, filepath.Join(tree, "a.jpg"), 3<<20)
	b := randomFile(t, filepath.Join(tree, "2024", "june", "b.jpg"), 5000)

	r := c.ok(dir, "put", "-r", tree, "-to", "backup")
	if !strings.Contains(r.Stdout, "stored backup/photos/2024/june/b.jpg") {
		t.Errorf("put -r said %q", r.Stdout)
	}
	if r := dfc(t, dir, "", "-conf", c.confPath, "put", tree); r.Code != 1 || !strings.Contains(r.Stderr, "put -r") {
		t.Errorf("put of a folder without -r: exit %d, %q", r.Code, r.Stderr)
	}

	// get NAME -: the bytes alone on stdout.
	r = c.ok(dir, "get", "backup/photos/a.jpg", "-")
	if r.Stdout != string(a) {
		t.Errorf("get -: %d bytes on stdout, want the %d put", len(r.Stdout), len(a))
	}

	// get -r into a new folder: the tree comes back, empty folders too.
	out := filepath.Join(dir, "restored")
	c.ok(dir, "get", "-r", "backup/photos", out)
	sameFile(t, filepath.Join(out, "a.jpg"), a)
	sameFile(t, filepath.Join(out, "2024", "june", "b.jpg"), b)
	if st, err := os.Stat(filepath.Join(out, "empty")); err != nil || !st.IsDir() {
		t.Errorf("empty folder not restored: %v", err)
	}

	// mkdir -p makes the parents and accepts what exists; plain mkdir does not.
	c.ok(dir, "mkdir", "-p", "x/y/z")
	c.ok(dir, "mkdir", "-p", "x/y")
	if r := dfc(t, dir, "", "-conf", c.confPath, "mkdir", "x/y"); r.Code != 1 {
		t.Errorf("mkdir of an existing folder: exit %d", r.Code)
	}

	// list --json and list -h.
	r = c.ok(dir, "list", "--json", "backup/")
	var ents []jsonEntry
	if err := json.Unmarshal([]byte(r.Stdout), &ents); err != nil {
		t.Fatalf("list --json: %v\n%s", err, r.Stdout)
	}
	found := map[string]jsonEntry{}
	for _, e := range ents {
		found[e.Name] = e
	}
	if e := found["backup/photos/a.jpg"]; e.Type != "file" || e.Size != 3<<20 || e.State != "ok" || e.Mode != "0640" {
		t.Errorf("list --json a.jpg: %+v", e)
	}
	if e := found["backup/photos/2024"]; e.Type != "dir" {
		t.Errorf("list --json 2024: %+v", e)
	}
	r = c.ok(dir, "list", "-h", "backup/photos/a")
	if !strings.Contains(r.Stdout, "  3.0M  ") {
		t.Errorf("list -h: %q", r.Stdout)
	}

	// status --json and where --json.
	r = c.ok(dir, "status", "--json")
	var st jsonStatus
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r.Stdout)
	}
	if !st.OK || st.Files != 2 || len(st.Nodes) != 4 || !st.Nodes[0].Up {
		t.Errorf("status --json: %+v", st)
	}
	r = c.ok(dir, "where", "--json", "backup/photos/a.jpg")
	var w jsonWhere
	if err := json.Unmarshal([]byte(r.Stdout), &w); err != nil {
		t.Fatalf("where --json: %v\n%s", err, r.Stdout)
	}
	if len(w.Segments) != 1 || len(w.Segments[0].Chunks) != 4 || len(w.Segments[0].Chunks[0].GoodCopies) != 2 || w.Segments[0].Chunks[3].End != 3<<20 {
		t.Errorf("where --json: %+v", w)
	}
}

func TestLSSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 1023: "1023", 1024: "1.0K", 1536: "1.5K", 1537: "1.6K",
		10 << 10: "10K", 3 << 20: "3.0M", 1<<30 - 1: "1.0G", 5 << 40: "5.0T"} {
		if got := lsSize(n); got != want {
			t.Errorf("lsSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// A peer that is not a dfs node is named as such, whether dfc speaks TLS
// to it or plaintext; a conf naming one address twice, or holding a
// password where others can read it, is caught before anything is sent.
func TestConfMistakes(t *testing.T) {
	dir := t.TempDir()
	var addrs []string
	for range 4 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() { // a web server: it answers whatever it is sent
			for {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				nc.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
				nc.Close()
			}
		}()
		addrs = append(addrs, ln.Addr().String())
	}
	write := func(name, extra string, mode os.FileMode, addrs ...string) string {
		var s strings.Builder
		for i, a := range addrs {
			fmt.Fprintf(&s, "Server DFS%d %s\n", i+1, a)
		}
		s.WriteString("Username: alice\nPassword: Crimson33\n" + extra)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s.String()), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	for _, extra := range []string{"Pins: first-contact\n", "Transport: plaintext-insecure\n"} {
		p := write("web.conf", extra, 0o600, addrs...)
		r := dfc(t, dir, "", "-conf", p, "list")
		if r.Code != 1 || !strings.Contains(r.Stderr, "not a dfs node at "+addrs[0]) {
			t.Errorf("%s: exit %d, %q", extra, r.Code, r.Stderr)
		}
		if strings.Contains(r.Stderr, "warning") {
			t.Errorf("0600 conf warned about: %q", r.Stderr)
		}
	}

	p := write("dup.conf", "", 0o600, addrs[0], addrs[1], addrs[2], addrs[1])
	r := dfc(t, dir, "", "-conf", p, "list")
	if r.Code != 1 || !strings.Contains(r.Stderr, "dup.conf:4: DFS4 has the address of DFS2") {
		t.Errorf("duplicate address: exit %d, %q", r.Code, r.Stderr)
	}

	p = write("open.conf", "", 0o644, addrs...)
	r = dfc(t, dir, "", "-conf", p, "list")
	if !strings.Contains(r.Stderr, "warning: "+p+" holds a password and its mode 0644 lets others read it") {
		t.Errorf("readable conf: %q", r.Stderr)
	}
}
