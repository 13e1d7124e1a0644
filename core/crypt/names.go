package crypt

import (
	"crypto/cipher"
	"crypto/hmac"
	"encoding/base64"
	"fmt"
	"strings"

	"dfs/core"
)

// Names are encrypted one path component at a time, deterministically, so
// that a client finds a/b/c on the nodes without asking for a/ and a/b
// first: a deterministic authenticated encryption (SIV, RFC 5297's shape
// with HMAC-SHA256 as the PRF): tag = HMAC(name)[:16], then AES-CTR with the
// tag as IV over the name padded to 16 bytes (PKCS#7, so a node sees a
// name's length only to 16 bytes), stored as unpadded base64url of tag and
// ciphertext. Equal names encrypt alike everywhere (as rclone crypt's),
// which tells a node that two folders hold entries of the same name, never
// which.

// MaxName is the longest name component the nodes can store encrypted:
// 16 bytes of tag and 160 of padded name make 235 characters of base64url,
// under core.MaxComponent (255); 176 would make 256.
const MaxName = 159

// Strict: a name has one encoding, so two directories on a node never
// decrypt to one name (base64 leaves spare bits in its last character).
var b64 = base64.RawURLEncoding.Strict()

// EncryptName encrypts one name component (not "", no "/").
func (k *Keys) EncryptName(name string) (string, error) {
	if len(name) > MaxName {
		return "", fmt.Errorf("%w: %d bytes (%d at most, as names are stored encrypted)", core.ErrNameTooLong, len(name), MaxName)
	}
	pad := 16 - len(name)%16
	buf := make([]byte, 16+len(name)+pad)
	copy(buf, mac(k.nameMAC, []byte(name))[:16])
	copy(buf[16:], name)
	for i := 16 + len(name); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCTR(k.nameEnc, buf[:16]).XORKeyStream(buf[16:], buf[16:])
	return b64.EncodeToString(buf), nil
}

// DecryptName decrypts a component EncryptName made, failing for anything
// else (a name a node made up or changed).
func (k *Keys) DecryptName(enc string) (string, error) {
	buf, err := b64.DecodeString(enc)
	if err != nil || len(buf) < 32 || len(buf)%16 != 0 {
		return "", fmt.Errorf("%w: not an encrypted name", core.ErrCorrupt)
	}
	pt := make([]byte, len(buf)-16)
	cipher.NewCTR(k.nameEnc, buf[:16]).XORKeyStream(pt, buf[16:])
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > 16 {
		return "", fmt.Errorf("%w: not an encrypted name", core.ErrCorrupt)
	}
	name := pt[:len(pt)-pad]
	for _, c := range pt[len(pt)-pad:] {
		if int(c) != pad {
			return "", fmt.Errorf("%w: not an encrypted name", core.ErrCorrupt)
		}
	}
	if !hmac.Equal(mac(k.nameMAC, name)[:16], buf[:16]) {
		return "", fmt.Errorf("%w: not an encrypted name", core.ErrCorrupt)
	}
	return string(name), nil
}

// EncryptPath encrypts every component of a clean path ("" is the top
// folder and stays ""). The result must still fit core.MaxPath.
func (k *Keys) EncryptPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	parts := strings.Split(p, "/")
	for i, c := range parts {
		e, err := k.EncryptName(c)
		if err != nil {
			return "", err
		}
		parts[i] = e
	}
	out := strings.Join(parts, "/")
	if len(out) > core.MaxPath {
		return "", fmt.Errorf("%w: %d bytes encrypted (limit %d)", core.ErrNameTooLong, len(out), core.MaxPath)
	}
	return out, nil
}

// DecryptPath decrypts a path EncryptPath made.
func (k *Keys) DecryptPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	parts := strings.Split(p, "/")
	for i, c := range parts {
		d, err := k.DecryptName(c)
		if err != nil {
			return "", err
		}
		parts[i] = d
	}
	return strings.Join(parts, "/"), nil
}

// EncryptedLen is the length of EncryptName's result for a name of n bytes.
func EncryptedLen(n int) int { return b64.EncodedLen(16 + n + 16 - n%16) }
