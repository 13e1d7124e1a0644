package conf

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadPasswordPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in")
	os.WriteFile(path, []byte("secret one\r\nnext\nlast"), 0o600)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	for _, want := range []string{"secret one", "next", "last"} {
		if got, err := ReadPassword("Password: ", f, &out); got != want || err != nil {
			t.Errorf("ReadPassword = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := ReadPassword("Password: ", f, &out); err == nil {
		t.Error("ReadPassword at EOF: no error")
	}
	if out.Len() != 0 {
		t.Errorf("prompt printed to a pipe: %q", out.String())
	}

	f.Seek(0, io.SeekStart)
	if got, err := ReadNewPassword(f, &out); got != "secret one" || err != nil {
		t.Errorf("ReadNewPassword = %q, %v", got, err)
	}
	os.WriteFile(path, []byte("\n"), 0o600)
	f2, _ := os.Open(path)
	defer f2.Close()
	if _, err := ReadNewPassword(f2, &out); err == nil {
		t.Error("ReadNewPassword of an empty line: no error")
	}
}

func TestAskYesNo(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    bool
		reasked bool
	}{
		{"yes\n", true, false},
		{"  Y \r\n", true, false},
		{"maybe\nYES\n", true, true},
		{"no\nyes\n", false, false},
		{"sure\n", false, true}, // then the end of input: no
		{"", false, false},
	} {
		var out bytes.Buffer
		got, err := AskYesNo("Trust it (yes/no)? ", strings.NewReader(tt.in), &out)
		if err != nil || got != tt.want {
			t.Errorf("%q: %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if !strings.HasPrefix(out.String(), "Trust it (yes/no)? ") || strings.Contains(out.String(), "Please type yes or no") != tt.reasked {
			t.Errorf("%q: printed %q", tt.in, out.String())
		}
	}
}
