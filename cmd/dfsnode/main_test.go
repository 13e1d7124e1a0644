package main

import (
	"bytes"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"

	"dfs/cmd/internal/cli"
)

func TestParseInterleaved(t *testing.T) {
	f := newServeFlags(io.Discard)
	pos, err := cli.ParseInterleaved(f.fs, []string{"-listen", "0.0.0.0", "DFS1", "-max-conns=7", "10001", "-scrub-rate", "2M"})
	if err != nil || !slices.Equal(pos, []string{"DFS1", "10001"}) {
		t.Fatalf("%v %v", pos, err)
	}
	if *f.listen != "0.0.0.0" || *f.maxConns != 7 || f.scrubRate != 2<<20 {
		t.Errorf("flags %v %v %v", *f.listen, *f.maxConns, f.scrubRate)
	}
	if err := f.fs.Parse([]string{"-scrub-rate", "lots"}); err == nil {
		t.Error("bad byte size accepted")
	}
	_ = flag.ErrHelp
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{{}, {"onlydir"}, {"d", "notaport"}, {"user", "frob", "x"}, {"fingerprint"}, {"scrub"}} {
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
