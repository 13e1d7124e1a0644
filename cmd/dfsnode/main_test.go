package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dfs/cmd/internal/cli"
	"dfs/conf"
)

func TestParseInterleaved(t *testing.T) {
	f := newServeFlags(io.Discard)
	pos, err := cli.ParseInterleaved(f.fs, []string{"-listen", "0.0.0.0", "DFS1", "-max-conns=7", "10001", "-scrub-rate", "2M", "-max-user-staged", "200G"})
	if err != nil || !slices.Equal(pos, []string{"DFS1", "10001"}) {
		t.Fatalf("%v %v", pos, err)
	}
	if *f.listen != "0.0.0.0" || *f.maxConns != 7 || f.scrubRate != 2<<20 || f.maxUserStaged != 200<<30 {
		t.Errorf("flags %v %v %v %v", *f.listen, *f.maxConns, f.scrubRate, f.maxUserStaged)
	}
	if s := f.maxUserStaged.String(); s != "200G" {
		t.Errorf("-max-user-staged prints as %q, want 200G", s)
	}
	if err := f.fs.Parse([]string{"-scrub-rate", "lots"}); err == nil {
		t.Error("bad byte size accepted")
	}
	_ = flag.ErrHelp
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{{}, {"onlydir"}, {"d", "notaport"}, {"user", "frob", "x"}, {"user", "quota", "x"}, {"fingerprint"}, {"scrub"}} {
		errb.Reset()
		if rc := run(args, &out, &errb); rc != 2 || !strings.Contains(errb.String(), "usage:") {
			t.Errorf("%q: rc %d, %q", args, rc, errb.String())
		}
	}
	errb.Reset()
	if rc := run([]string{"-conf", "/nonexistent/dfs.conf", "d", "10001"}, &out, &errb); rc != 1 || !strings.Contains(errb.String(), "dfsnode user add") {
		t.Errorf("missing conf: %d %q", rc, errb.String())
	}
}

func TestUserQuota(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dfs.conf")
	if err := conf.AddUser(path, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	quota := func() int64 {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		u, err := conf.ParseServer(path, data)
		if err != nil {
			t.Fatal(err)
		}
		return u.Quota("alice")
	}
	if rc := run([]string{"user", "quota", "alice", "10G", "-conf", path}, &out, &errb); rc != 0 || quota() != 10<<30 {
		t.Errorf("quota 10G: rc %d, %q, quota %d", rc, errb.String(), quota())
	}
	for _, bad := range []string{"0", "lots"} {
		errb.Reset()
		if rc := run([]string{"user", "quota", "alice", bad, "-conf", path}, &out, &errb); rc != 2 || quota() != 10<<30 {
			t.Errorf("quota %s: rc %d, %q", bad, rc, errb.String())
		}
	}
	if rc := run([]string{"user", "quota", "-conf", path, "alice", "none"}, &out, &errb); rc != 0 || quota() != 0 {
		t.Errorf("quota none: rc %d, quota %d", rc, quota())
	}
	errb.Reset()
	if rc := run([]string{"user", "quota", "bob", "1G", "-conf", path}, &out, &errb); rc != 1 || !strings.Contains(errb.String(), `no user "bob"`) {
		t.Errorf("quota of a missing user: rc %d, %q", rc, errb.String())
	}
}
