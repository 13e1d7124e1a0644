package crypt

import (
	"crypto/rand"
	"fmt"

	"dfs/core"
)

// A chunk is stored as nonce (12 random bytes) || AES-256-GCM ciphertext ||
// tag (16), core.ChunkOverhead bytes more than its plaintext. Its key is
// derived from the content key and the segment's id, so that a random
// nonce is never reused under one key in practice (a segment has four
// chunks, and a segment id names one content); the additional data is
// the segment id and the chunk's index, so a chunk cannot be moved to
// another segment or position. Which segments a version has, and the
// SHA-256 of each stored chunk, are in the version's entry, which is
// sealed (seal.go): a chunk from another file or an older version does not
// match it.

const nonceSize = 12

func (k *Keys) chunkAEADData(segID string, ch int) (key []byte, aad []byte) {
	return derive(k.content, "dfs chunk key v1\x00"+segID, 32), []byte(fmt.Sprintf("dfs chunk v1\x00%s\x00%d", segID, ch))
}

// SealChunk appends the encrypted chunk ch of segment segID to dst.
func (k *Keys) SealChunk(dst []byte, segID string, ch int, plain []byte) []byte {
	key, aad := k.chunkAEADData(segID, ch)
	var nonce [nonceSize]byte
	rand.Read(nonce[:])
	dst = append(dst, nonce[:]...)
	return gcm(key).Seal(dst, nonce[:], plain, aad)
}

// OpenChunk appends the plaintext of an encrypted chunk to dst, or fails
// with core.ErrCorrupt when it is not chunk ch of segment segID as the user
// stored it.
func (k *Keys) OpenChunk(dst []byte, segID string, ch int, sealed []byte) ([]byte, error) {
	if len(sealed) < core.ChunkOverhead {
		return nil, fmt.Errorf("%w: chunk %d of segment %s: %d bytes, too short to be encrypted", core.ErrCorrupt, ch, segID, len(sealed))
	}
	key, aad := k.chunkAEADData(segID, ch)
	out, err := gcm(key).Open(dst, sealed[:nonceSize], sealed[nonceSize:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: chunk %d of segment %s fails authentication", core.ErrCorrupt, ch, segID)
	}
	return out, nil
}

// OpenChunkInPlace is OpenChunk decrypting over the encrypted chunk: the
// plaintext it returns lies within sealed (which it overwrites), so a
// reader needs one buffer per chunk, not two.
func (k *Keys) OpenChunkInPlace(segID string, ch int, sealed []byte) ([]byte, error) {
	if len(sealed) < core.ChunkOverhead {
		return k.OpenChunk(nil, segID, ch, sealed)
	}
	// The ciphertext starts after the nonce: the output starts there too
	// (AES-GCM allows exactly that overlap).
	return k.OpenChunk(sealed[nonceSize:nonceSize], segID, ch, sealed)
}
