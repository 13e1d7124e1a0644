package store

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
)

// TestChunkWriterSizes writes chunk files of sizes around the write pieces,
// with direct I/O where the test folder's filesystem has it and without,
// and reads each back whole through the checked reader.
func TestChunkWriterSizes(t *testing.T) {
	dir := t.TempDir()
	pool := newOutPool()
	// Bytes of file (header, data, CRCs) equal to one piece, one byte
	// either side, none, and several pieces.
	exact := int64(outPiece - ChunkHeaderSize)
	exact -= 4 * ((exact + BlockSize + 3) / (BlockSize + 4)) // the CRCs
	sizes := []int64{0, 1, 100, exact - 1, exact, exact + 1, 3<<20 + 7}
	sawDirect := false
	for _, direct := range []bool{true, false} {
		for i, size := range sizes {
			name := filepath.Join(dir, "c")
			os.Remove(name)
			open := func(flag int) (*os.File, error) { return os.OpenFile(name, flag, 0o600) }
			var f *os.File
			var isDirect bool
			var err error
			if direct {
				f, isDirect, err = openChunkForWrite(open)
			} else {
				f, err = open(os.O_WRONLY | os.O_CREATE | os.O_EXCL)
			}
			if err != nil {
				t.Fatal(err)
			}
			sawDirect = sawDirect || isDirect
			data := make([]byte, size)
			rand.Read(data)
			w := newChunkWriter(f, isDirect, pool, true)
			// Writes of odd sizes, as frames arrive.
			for p := data; len(p) > 0; {
				k := min(len(p), 40_000+i)
				w.Write(p[:k])
				p = p[k:]
			}
			sum, err := w.finish(2, [32]byte{})
			if err != nil {
				t.Fatalf("size %d direct %v: %v", size, isDirect, err)
			}
			if sum != sha256.Sum256(data) {
				t.Fatalf("size %d: wrong SHA-256", size)
			}
			f.Close()
			rf, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			hdr, err := readChunkHeader(rf)
			if err != nil {
				t.Fatalf("size %d direct %v: %v", size, isDirect, err)
			}
			cf := &ChunkFile{f: rf, hdr: hdr}
			if err := cf.verify(nil); err != nil || hdr.Size != size || hdr.Index != 2 {
				t.Fatalf("size %d direct %v: %v, header %+v", size, isDirect, err, hdr)
			}
			var got []byte
			buf := make([]byte, BlockSize+4)
			for b := int64(0); b < cf.blocks(); b++ {
				d, err := cf.readBlock(b, buf)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, d...)
			}
			rf.Close()
			if !bytes.Equal(got, data) {
				t.Fatalf("size %d direct %v: data differs", size, isDirect)
			}
		}
	}
	if !sawDirect {
		t.Logf("%s has no direct I/O: only the page-cache path was tested", dir)
	}
}
