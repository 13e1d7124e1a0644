package store

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"dfs/core"
)

func TestChunkHeader(t *testing.T) {
	h := ChunkHeader{Index: 3, Size: 12345}
	h.SHA256[0], h.SHA256[31] = 1, 2
	b := EncodeChunkHeader(h)
	if len(b) != 64 || string(b[:8]) != "DFSCHNK1" || binary.BigEndian.Uint32(b[8:]) != 1 {
		t.Fatalf("%x", b)
	}
	got, err := DecodeChunkHeader(b)
	if err != nil || got != h {
		t.Fatalf("%+v %v", got, err)
	}
	for _, i := range []int{0, 8, 15, 16, 60} {
		bad := slices.Clone(b)
		bad[i] ^= 0x80
		if _, err := DecodeChunkHeader(bad); err == nil {
			t.Errorf("flipped byte %d accepted", i)
		}
	}
	if chunkFileSize(0) != 64 || chunkFileSize(1) != 69 || chunkFileSize(BlockSize) != 64+BlockSize+4 || chunkFileSize(BlockSize+1) != 64+BlockSize+9 {
		t.Error("chunkFileSize")
	}
}

func FuzzDecodeChunkHeader(f *testing.F) {
	f.Add(EncodeChunkHeader(ChunkHeader{Index: 2, Size: 1 << 20}))
	f.Add([]byte("DFSCHNK1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeChunkHeader(b)
		if err != nil {
			return
		}
		if h.Index < 0 || h.Index >= core.NumChunks || h.Size < 0 || h.Size > MaxChunkSize {
			t.Fatalf("accepted %+v", h)
		}
		if !bytes.Equal(EncodeChunkHeader(h), b[:ChunkHeaderSize]) {
			t.Fatalf("re-encoding differs")
		}
	})
}
