package cli

import (
	"fmt"
	"runtime/debug"
)

// IsVersion reports whether args ask for the version: "--version" or
// "-version" as the first argument, as GNU tools take it. Only the first,
// so that a file named "--version" further on stays a file.
func IsVersion(args []string) bool {
	return len(args) > 0 && (args[0] == "--version" || args[0] == "-version")
}

// Version describes the running binary from its build info: the module
// version (a tag when built with go install ...@vX, "(devel)" from a clone),
// the commit and its time, "+dirty" when the tree had changes, and the Go
// release, such as "dfc (devel) 0f0cac1d2e3f 2026-12-07T02:50:00Z go1.26.0".
func Version(cmd string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return cmd + " (no build info)"
	}
	return versionOf(cmd, bi)
}

func versionOf(cmd string, bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
			if len(rev) > 12 {
				rev = rev[:12]
			}
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	s := fmt.Sprintf("%s %s", cmd, v)
	if rev != "" {
		s += " " + rev + dirty
	}
	if when != "" {
		s += " " + when
	}
	return s + " " + bi.GoVersion
}
