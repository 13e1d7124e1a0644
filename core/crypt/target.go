package crypt

import (
	"crypto/rand"
	"fmt"

	"dfs/core"
)

// A symlink's target is stored encrypted: base64url of nonce || AES-GCM
// ciphertext || tag. (The entry's seal covers it too.)

var targetAAD = []byte("dfs target v1")

// EncryptTarget encrypts a symlink target.
func (k *Keys) EncryptTarget(t string) string {
	var nonce [nonceSize]byte
	rand.Read(nonce[:])
	return b64.EncodeToString(k.target.Seal(nonce[:], nonce[:], []byte(t), targetAAD))
}

// DecryptTarget decrypts what EncryptTarget made.
func (k *Keys) DecryptTarget(s string) (string, error) {
	b, err := b64.DecodeString(s)
	if err != nil || len(b) < nonceSize+16 {
		return "", fmt.Errorf("%w: not an encrypted symlink target", core.ErrCorrupt)
	}
	t, err := k.target.Open(nil, b[:nonceSize], b[nonceSize:], targetAAD)
	if err != nil {
		return "", fmt.Errorf("%w: symlink target fails authentication", core.ErrCorrupt)
	}
	return string(t), nil
}

// EncryptedTargetLen is the length of EncryptTarget's result for n bytes.
func EncryptedTargetLen(n int) int { return b64.EncodedLen(nonceSize + n + 16) }
