package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"dfs/core"
)

// ChunkHeaderSize is the size of the header at the start of a chunk file.
const ChunkHeaderSize = 64

// MaxChunkSize is the largest chunk a node accepts.
const MaxChunkSize = 1 << 40

// chunkFormat is the only chunk file format version so far.
const chunkFormat = 1

var chunkMagic = []byte("DFSCHNK1")

// ChunkHeader is the decoded header of a chunk file: which chunk of a file
// version it holds, how many data bytes follow and their SHA-256.
type ChunkHeader struct {
	Index  int
	Size   int64
	SHA256 [32]byte
}

// errBadHeader marks a chunk header that does not decode.
var errBadHeader = errors.New("bad chunk header")

// EncodeChunkHeader returns the 64-byte header for h: magic "DFSCHNK1",
// format, chunk index, data size, SHA-256, zero padding; integers big-endian.
func EncodeChunkHeader(h ChunkHeader) []byte {
	b := make([]byte, ChunkHeaderSize)
	copy(b, chunkMagic)
	binary.BigEndian.PutUint32(b[8:12], chunkFormat)
	binary.BigEndian.PutUint32(b[12:16], uint32(h.Index))
	binary.BigEndian.PutUint64(b[16:24], uint64(h.Size))
	copy(b[24:56], h.SHA256[:])
	return b
}

// DecodeChunkHeader parses and checks a chunk file header.
func DecodeChunkHeader(b []byte) (ChunkHeader, error) {
	if len(b) < ChunkHeaderSize {
		return ChunkHeader{}, fmt.Errorf("%w: %d bytes, want %d", errBadHeader, len(b), ChunkHeaderSize)
	}
	if !bytes.Equal(b[:8], chunkMagic) {
		return ChunkHeader{}, fmt.Errorf("%w: wrong magic", errBadHeader)
	}
	if f := binary.BigEndian.Uint32(b[8:12]); f != chunkFormat {
		return ChunkHeader{}, fmt.Errorf("%w: format %d, want %d", errBadHeader, f, chunkFormat)
	}
	idx := binary.BigEndian.Uint32(b[12:16])
	if idx >= core.NumChunks {
		return ChunkHeader{}, fmt.Errorf("%w: chunk index %d", errBadHeader, idx)
	}
	size := binary.BigEndian.Uint64(b[16:24])
	if size > MaxChunkSize {
		return ChunkHeader{}, fmt.Errorf("%w: size %d over %d", errBadHeader, size, uint64(MaxChunkSize))
	}
	for _, c := range b[56:ChunkHeaderSize] {
		if c != 0 {
			return ChunkHeader{}, fmt.Errorf("%w: nonzero padding", errBadHeader)
		}
	}
	h := ChunkHeader{Index: int(idx), Size: int64(size)}
	copy(h.SHA256[:], b[24:56])
	return h, nil
}
