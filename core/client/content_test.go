package client_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
	"dfs/node/store"
)

// Tests of the content's end-to-end encryption (issue 15): what the nodes
// hold says nothing of the plaintext, and a node serving chunks changed
// behind its back (with the checksums it keeps made to match, as an
// operator who knows the format could) is a bad copy: the reader gets
// the true bytes from the other.

// chunkFilePath is where node folder dir keeps chunk ch of segment id of
// user's files (docs/format.md, Chunk file).
func chunkFilePath(dir, user, id string, ch int) string {
	return filepath.Join(dir, "users", user, "segments", id[len(id)-2:], fmt.Sprintf("%s.c%d", id, ch))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// readChunkFile returns the data a chunk file holds (its blocks without
// their CRCs).
func readChunkFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := store.DecodeChunkHeader(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var data []byte
	for off := int64(store.ChunkHeaderSize); int64(len(data)) < h.Size; off += store.BlockSize + 4 {
		n := min(store.BlockSize, h.Size-int64(len(data)))
		data = append(data, b[off:off+n]...)
	}
	return data
}

// writeChunkFile writes data as chunk ch in a chunk file at path whose
// header and CRCs all check.
func writeChunkFile(t *testing.T, path string, ch int, data []byte) {
	t.Helper()
	b := store.EncodeChunkHeader(store.ChunkHeader{Index: ch, Size: int64(len(data)), SHA256: sha256.Sum256(data)})
	for p := data; len(p) > 0; {
		n := min(store.BlockSize, len(p))
		b = append(b, p[:n]...)
		b = binary.BigEndian.AppendUint32(b, crc32.Checksum(p[:n], castagnoli))
		p = p[n:]
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// firstAsked is the node a read of chunk ch of e's first segment asks
// first: the one whose first chunk it is.
func firstAsked(e client.Entry, ch int) int {
	x := xOf(e)
	for _, n := range core.ChunkNodes(x, ch) {
		if core.NodeChunks(x, n)[0] == ch {
			return n
		}
	}
	panic("BUG: no first holder")
}

// TestChunksHoldNoPlaintext: after a put of a file of a known pattern, big
// and small (inline), nothing under any node's folder holds a piece of
// it; the chunks on disk are the encrypted ones the entry lists (size,
// SHA-256), and the placement's MD5 is of them, not of the plaintext.
func TestChunksHoldNoPlaintext(t *testing.T) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	marker := []byte("e2e-content-marker:")
	big := bytes.Repeat(marker, (3<<20+12345)/len(marker))
	small := bytes.Repeat(marker, 20<<10/len(marker))
	eb := mustPut(t, cl, "big", big).Entry
	mustPut(t, cl, "small", small)
	for n := range core.NumNodes {
		filepath.WalkDir(c.Dir(n), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(p)
			if err == nil && bytes.Contains(b, marker[:12]) {
				t.Errorf("%s holds plaintext", p)
			}
			return nil
		})
	}
	seg := eb.Segments[0]
	plainMD5 := md5.Sum(big)
	if seg.MD5 == hex.EncodeToString(plainMD5[:]) {
		t.Error("the placement MD5 is the plaintext's")
	}
	var all []byte
	for ch := range core.NumChunks {
		data := readChunkFile(t, chunkFilePath(c.Dir(core.ChunkNodes(seg.X(), ch)[0]), "alice", seg.ID, ch))
		cs, ce := core.ChunkBounds(seg.Size, ch)
		if int64(len(data)) != ce-cs+core.ChunkOverhead || seg.Chunks[ch].Size != int64(len(data)) {
			t.Errorf("chunk %d: %d bytes on disk, %d in the entry, for %d of plaintext", ch, len(data), seg.Chunks[ch].Size, ce-cs)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != seg.Chunks[ch].SHA256 {
			t.Errorf("chunk %d: the entry's SHA-256 is not of the chunk on disk", ch)
		}
		all = append(all, data...)
	}
	if sum := md5.Sum(all); hex.EncodeToString(sum[:]) != seg.MD5 {
		t.Error("the placement MD5 is not of the encrypted chunks")
	}
	mustGet(t, cl, "big", big)
	mustGet(t, cl, "small", small)
}

// tamperedRead stores want as f (after old, when old is set), lets tamper
// change the chunk file of chunk 1 on the node a read asks first for it,
// and checks that a ranged read of 4 KiB in the
// middle of that chunk, and a whole-file get, return want, and that read
// repair puts the good copy back.
func tamperedRead(t *testing.T, old, want []byte, tamper func(t *testing.T, path string, oldFiles map[int][]byte)) {
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	const ch = 1
	oldFiles := map[int][]byte{} // chunk -> an older version's chunk file
	if old != nil {
		e := mustPut(t, cl, "f", old).Entry
		seg := e.Segments[0]
		for k := range core.NumChunks {
			b, err := os.ReadFile(chunkFilePath(c.Dir(core.ChunkNodes(seg.X(), k)[0]), "alice", seg.ID, k))
			if err != nil {
				t.Fatal(err)
			}
			oldFiles[k] = b
		}
	}
	e := mustPut(t, cl, "f", want).Entry
	n := firstAsked(e, ch)
	// While the node runs: stopped, it would find the file disagreeing
	// with its index of the segments when it starts, and drop it.
	path := chunkFilePath(c.Dir(n), "alice", e.Segments[0].ID, ch)
	tamper(t, path, oldFiles)

	cs, ce := core.ChunkBounds(e.Segments[0].Size, ch)
	off := cs + (ce-cs)/2
	f, err := cl.Open(ctxT(t), "f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := make([]byte, 4<<10)
	if _, err := f.ReadAt(got, off); err != nil {
		t.Fatalf("ranged read over %s's tampered chunk: %v", core.NodeName(n), err)
	}
	if !bytes.Equal(got, want[off:off+int64(len(got))]) {
		t.Fatalf("ranged read over %s's tampered chunk: not the bytes stored", core.NodeName(n))
	}
	mustGet(t, cl, "f", want)
	// Read repair puts the good copy back in the background.
	other := core.ChunkNodes(xOf(e), ch)
	good := readChunkFile(t, chunkFilePath(c.Dir(other[0]+other[1]-n), "alice", e.Segments[0].ID, ch))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && len(b) > store.ChunkHeaderSize && bytes.Equal(readChunkFile(t, path), good) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tampered chunk on %s was not repaired", core.NodeName(n))
		}
	}
}

// TestFlippedChunkByteCaught: a byte flipped in a stored chunk, with the
// chunk file's CRC and SHA-256 made to match, is caught by the client on a
// ranged read inside the chunk: the other copy is read.
func TestFlippedChunkByteCaught(t *testing.T) {
	tamperedRead(t, nil, randBytes(t, int(core.SegmentSize)), func(t *testing.T, path string, _ map[int][]byte) {
		data := readChunkFile(t, path)
		data[len(data)/2] ^= 0x01
		writeChunkFile(t, path, 1, data)
	})
}

// TestOldChunkPutBackCaught: the chunk of an older version of the file put
// in place of the current one's (a valid chunk file, encrypted by the
// user) is caught the same way.
func TestOldChunkPutBackCaught(t *testing.T) {
	old, cur := randBytes(t, int(core.SegmentSize)), randBytes(t, int(core.SegmentSize))
	tamperedRead(t, old, cur, func(t *testing.T, path string, oldFiles map[int][]byte) {
		if err := os.WriteFile(path, oldFiles[1], 0o600); err != nil {
			t.Fatal(err)
		}
	})
}
