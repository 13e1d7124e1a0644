package trust_test

// What a node's operator can do to its data folder while the node is
// stopped: find entries, rewrite their @meta, change chunk files. The
// layout is docs/format.md's; names on disk may be encrypted, so entries
// are found by what their records say (a file's size), never by name.

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"dfs/core"
	"dfs/node/store"
)

// entry is one entry's directory on a node and its record.
type entry struct {
	dir string // the entry's directory, holding @meta
	rec store.Record
}

// userDir is alice's folder in a node's data folder.
func userDir(nodeDir string) string { return filepath.Join(nodeDir, "users", "alice") }

// readRecord reads the record a node would read in dir: @meta.new when it
// is whole JSON, else @meta.
func readRecord(dir string) (store.Record, []byte, error) {
	var rec store.Record
	for _, name := range []string{"@meta.new", "@meta"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil && json.Unmarshal(b, &rec) == nil {
			return rec, b, nil
		}
	}
	return rec, nil, fs.ErrNotExist
}

// entries returns every entry under alice's files on a node.
func entries(t *testing.T, nodeDir string) []entry {
	t.Helper()
	var out []entry
	root := filepath.Join(userDir(nodeDir), "files")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || p == root {
			return err
		}
		if rec, _, err := readRecord(p); err == nil {
			out = append(out, entry{dir: p, rec: rec})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fileOfSize returns the one live file of size bytes on a node.
func fileOfSize(t *testing.T, nodeDir string, size int64) entry {
	t.Helper()
	var found []entry
	for _, e := range entries(t, nodeDir) {
		if !e.rec.Dir && !e.rec.Deleted && e.rec.Size == size {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d files of %d bytes, want 1", nodeDir, len(found), size)
	}
	return found[0]
}

// rewriteMeta makes the node read m as the entry in dir: it replaces
// @meta and removes a @meta.new it would prefer.
func rewriteMeta(t *testing.T, dir string, m map[string]any) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "@meta"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "@meta.new")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
}

// chunkFiles returns the chunk files a node holds of segment id, by chunk
// index.
func chunkFiles(t *testing.T, nodeDir, id string) map[int]string {
	t.Helper()
	out := map[int]string{}
	for c := 0; c < core.NumChunks; c++ {
		m, err := filepath.Glob(filepath.Join(userDir(nodeDir), "segments", "*", id+".c"+string(rune('0'+c))))
		if err != nil {
			t.Fatal(err)
		}
		if len(m) == 1 {
			out[c] = m[0]
		}
	}
	return out
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// flipByte flips data byte q of the chunk file at path and rewrites its
// block's CRC-32C, so that the node finds the file sound and serves it
// (node/store/chunkfile.go: header, then blocks each followed by its
// CRC); with rehash, the SHA-256 in its header too.
func flipByte(t *testing.T, path string, q int64, rehash bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := store.DecodeChunkHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	if q >= hdr.Size {
		t.Fatalf("%s: byte %d past the chunk's %d", path, q, hdr.Size)
	}
	block := q / store.BlockSize
	start := store.ChunkHeaderSize + block*(store.BlockSize+4)
	n := min(store.BlockSize, hdr.Size-block*store.BlockSize)
	b[start+q%store.BlockSize] ^= 0x40
	binary.BigEndian.PutUint32(b[start+n:], crc32.Checksum(b[start:start+n], castagnoli))
	if rehash {
		sum := sha256.New()
		for off := int64(store.ChunkHeaderSize); off < int64(len(b)); off += store.BlockSize + 4 {
			sum.Write(b[off : off+min(store.BlockSize, int64(len(b))-off-4)])
		}
		sum.Sum(hdr.SHA256[:0])
		copy(b, store.EncodeChunkHeader(hdr))
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
