package client

import (
	"testing"

	"dfs/core/crypt"
	"dfs/core/wire"
)

// TestPlainErr: a node's refusal quoting the encrypted paths of a request,
// or a folder above one, reads with the plaintext ones.
func TestPlainErr(t *testing.T) {
	k := crypt.NewMasterKey().Keys()
	enc := func(p string) string {
		e, err := k.EncryptPath(p)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	from, to := "docs/a.txt", "docs/old/b.txt"
	msg := enc("docs/old") + ": not a folder; " + enc(from) + " stays"
	err := plainErr(&wire.RemoteError{Status: wire.StatusNotDir, Message: msg}, from, enc(from), to, enc(to))
	if want := "docs/old: not a folder; docs/a.txt stays"; err.(*wire.RemoteError).Message != want {
		t.Errorf("message %q, want %q", err.(*wire.RemoteError).Message, want)
	}
}
