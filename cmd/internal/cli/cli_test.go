package cli

import (
	"flag"
	"io"
	"slices"
	"testing"
)

func TestParseInterleaved(t *testing.T) {
	for _, tc := range []struct {
		args, pos []string
		conf      string
	}{
		{[]string{"put", "-conf", "x", "a"}, []string{"put", "a"}, "x"},
		{[]string{"-conf=y", "a", "b"}, []string{"a", "b"}, "y"},
		{[]string{"a", "--", "-conf", "z"}, []string{"a", "-conf", "z"}, ""},
		{nil, nil, ""},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		conf := fs.String("conf", "", "")
		pos, err := ParseInterleaved(fs, tc.args)
		if err != nil || !slices.Equal(pos, tc.pos) || *conf != tc.conf {
			t.Errorf("%q: %q -conf %q, %v; want %q -conf %q", tc.args, pos, *conf, err, tc.pos, tc.conf)
		}
	}
}
