package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// ErrWrongKey: a wrapped master key that the password does not open (another
// password's, or damaged or forged by a node).
var ErrWrongKey = errors.New("the user's key does not open with this password")

// MasterKey is the user's random key: everything stored is encrypted and
// authenticated with keys derived from it. It is made once, at the user's
// first login, and kept on the nodes wrapped by the root key, so that a
// password change rewraps it and re-encrypts nothing.
type MasterKey struct {
	id  [16]byte // random: tells wrapped keys apart (which one two racing first logins keep)
	key [32]byte
}

// NewMasterKey makes a random master key.
func NewMasterKey() *MasterKey {
	var mk MasterKey
	rand.Read(mk.id[:])
	rand.Read(mk.key[:])
	return &mk
}

// ID names the master key (32 hex digits).
func (mk *MasterKey) ID() string { return hex.EncodeToString(mk.id[:]) }

// WrappedSize is the size of a wrapped master key: version byte, id, nonce,
// key and tag.
const WrappedSize = 1 + 16 + 12 + 32 + 16

const wrapVersion = 1

func wrapAAD(user string, id []byte) []byte {
	return append([]byte("dfs master key v1\x00"+user+"\x00"), id...)
}

func gcm(key []byte) cipher.AEAD {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return a
}

// Wrap encrypts mk for user with the root key: what the nodes keep.
func (r *Root) Wrap(user string, mk *MasterKey) []byte {
	out := make([]byte, 0, WrappedSize)
	out = append(out, wrapVersion)
	out = append(out, mk.id[:]...)
	var nonce [12]byte
	rand.Read(nonce[:])
	out = append(out, nonce[:]...)
	return gcm(r.wrap).Seal(out, nonce[:], mk.key[:], wrapAAD(user, mk.id[:]))
}

// WrappedID returns the id of a wrapped master key without opening it, ""
// when blob is not one.
func WrappedID(blob []byte) string {
	if len(blob) != WrappedSize || blob[0] != wrapVersion {
		return ""
	}
	return hex.EncodeToString(blob[1:17])
}

// Unwrap opens a wrapped master key of user's with the root key.
func (r *Root) Unwrap(user string, blob []byte) (*MasterKey, error) {
	if WrappedID(blob) == "" {
		return nil, ErrWrongKey
	}
	var mk MasterKey
	copy(mk.id[:], blob[1:17])
	k, err := gcm(r.wrap).Open(nil, blob[17:29], blob[29:], wrapAAD(user, mk.id[:]))
	if err != nil {
		return nil, ErrWrongKey
	}
	copy(mk.key[:], k)
	return &mk, nil
}

// Keys are the working keys derived from a master key. Safe for concurrent
// use.
type Keys struct {
	nameMAC  []byte       // SIV tag of a name component
	nameEnc  cipher.Block // AES-256, CTR under that tag
	content  []byte       // base of the per-segment chunk keys
	target   cipher.AEAD  // symlink targets
	entryMAC []byte       // seals of entries
}

// Keys derives the working keys.
func (mk *MasterKey) Keys() *Keys {
	b, err := aes.NewCipher(derive(mk.key[:], "dfs name enc v1", 32))
	if err != nil {
		panic(err)
	}
	return &Keys{
		nameMAC:  derive(mk.key[:], "dfs name mac v1", 32),
		nameEnc:  b,
		content:  derive(mk.key[:], "dfs content v1", 32),
		target:   gcm(derive(mk.key[:], "dfs target v1", 32)),
		entryMAC: derive(mk.key[:], "dfs entry v1", 32),
	}
}

func mac(key []byte, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}
