package cli

import (
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "dfs", Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0f0cac1d2e3f4a5b6c7d8e9f"},
			{Key: "vcs.time", Value: "2026-12-07T02:50:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}}
	if got, want := versionOf("dfc", bi), "dfc (devel) 0f0cac1d2e3f+dirty 2026-12-07T02:50:00Z go1.26.0"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	bare := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"}}
	if got, want := versionOf("dfsnode", bare), "dfsnode v1.2.0 go1.26.0"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, args := range [][]string{{"--version"}, {"-version", "x"}} {
		if !IsVersion(args) {
			t.Errorf("IsVersion(%q) = false", args)
		}
	}
	for _, args := range [][]string{nil, {"put", "--version"}, {"-v"}} {
		if IsVersion(args) {
			t.Errorf("IsVersion(%q) = true", args)
		}
	}
}
