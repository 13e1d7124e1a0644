package conf

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
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
