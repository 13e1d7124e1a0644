package store

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// keyName is the user's wrapped master key in the user's folder
// (docs/format.md): what the node keeps for the client and never opens
// (core/crypt). It is written whole and durably before the reply, never
// through the flusher: a key a client was told is stored must survive a
// crash, or its files could be locked for good.
const keyName = "key"

// maxKeyFile bounds what Key reads: a wrapped key is 77 bytes; anything
// larger is not one, and the client treats it as a key that does not
// open.
const maxKeyFile = 1 << 10

// Key returns the user's wrapped master key as stored, nil if there is
// none.
func (u *UserDir) Key() ([]byte, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.readKey()
}

// SwapKey stores key as the user's wrapped master key if the one stored
// is expect (nil: if there is none), and returns the key stored after
// the call and whether it was replaced. It is the only change of the key,
// a compare-and-swap, so that two clients never overwrite a key they did
// not see.
func (u *UserDir) SwapKey(key, expect []byte) (cur []byte, swapped bool, err error) {
	u.mu.Lock() // a key changes rarely: the user's namespace lock is enough
	defer u.mu.Unlock()
	cur, err = u.readKey()
	if err != nil || !bytes.Equal(cur, expect) {
		return cur, false, err
	}
	if err := u.writeKey(key); err != nil {
		return cur, false, err
	}
	return bytes.Clone(key), true, nil
}

// readKey reads the key file; u.mu is held.
func (u *UserDir) readKey() ([]byte, error) {
	f, err := u.root.OpenFile(keyName, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile))
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, nil // as none: the reply could not tell an empty key from none
	}
	return b, nil
}

// writeKey replaces the key file durably (writeDurable). u.mu is held.
func (u *UserDir) writeKey(key []byte) error {
	return writeDurable(u.root.root, keyName, key)
}
