package core

import (
	"errors"
	"strings"
	"testing"
)

func TestCleanName(t *testing.T) {
	good := map[string]string{
		"a": "a", "photos/2026/a b_c.jpg": "photos/2026/a b_c.jpg", "dir/": "dir", "/": "",
		"": "", "x.tar.gz": "x.tar.gz", "@home": "@home", "caf\u00e9": "caf\u00e9", ".hidden": ".hidden",
	}
	for in, want := range good {
		got, err := CleanName(in)
		if err != nil || got != want {
			t.Errorf("CleanName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{"/etc/passwd", "..", "a/../b", "a/./b", "a//b", "a\x00b", "\xff", strings.Repeat("x", 256), "../../x"}
	for _, in := range bad {
		if _, err := CleanName(in); !errors.Is(err, ErrBadName) {
			t.Errorf("CleanName(%q): %v, want ErrBadName", in, err)
		}
	}
}
