package trust_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"dfs/core"
	"dfs/node/store"
)

// The four ways of issue 15 to tamper with a stopped node's data folder.
var tamperCases = []tamperCase{
	{name: "swapped entries", setup: swapEntries, mountSees: forgedRE, dfcSees: forgedRE},
	{name: "forged inline entry", setup: forgeInline, mountSees: forgedRE, dfcSees: forgedRE},
	{name: "entry copied into another folder", setup: copyEntry, mountSees: forgedRE, dfcSees: forgedRE},
	{name: "flipped byte", setup: flipChunk(false), dfcSees: quarantineRE},
	{name: "old chunk", setup: oldChunk, dfcSees: quarantineRE},
	// The node's own check passes (it hashes against the header, redone):
	// only the client's check stands between the bytes and the reader.
	{name: "flipped byte under a running node", live: true, setup: flipChunk(true), mountSees: forgedRE},
}

// swapEntries swaps the directories of two files, so that each name holds
// the other's entry (with its sealed stamp, segments and chunks).
func swapEntries(r *rig) ([]file, func(string, []file)) {
	files := []file{newFile("a.bin", random(200<<10)), newFile("b.bin", random(300<<10))}
	for _, f := range files {
		r.put(f.name, f.data)
	}
	return files, func(nodeDir string, files []file) {
		a := fileOfSize(r.t, nodeDir, int64(len(files[0].data))).dir
		b := fileOfSize(r.t, nodeDir, int64(len(files[1].data))).dir
		for _, mv := range [][2]string{{a, a + ".swap"}, {b, a}, {a + ".swap", b}} {
			if err := os.Rename(mv[0], mv[1]); err != nil {
				r.t.Fatal(err)
			}
		}
	}
}

// copyEntry copies a file's entry into another folder on DFS1 alone: a
// name encrypts alike in every folder, so there it has the name it had.
func copyEntry(r *rig) ([]file, func(string, []file)) {
	files := []file{newFile("a.bin", random(200<<10)), newFile("sub/other.bin", random(50<<10)),
		{name: "sub/a.bin", absent: true}}
	r.put(files[0].name, files[0].data)
	r.put(files[1].name, files[1].data)
	return files, func(nodeDir string, files []file) {
		a := fileOfSize(r.t, nodeDir, int64(len(files[0].data))).dir
		sub := filepath.Dir(fileOfSize(r.t, nodeDir, int64(len(files[1].data))).dir)
		_, raw, err := readRecord(a)
		if err != nil {
			r.t.Fatal(err)
		}
		to := filepath.Join(sub, filepath.Base(a))
		if err := os.Mkdir(to, 0o700); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, "@meta"), raw, 0o600); err != nil {
			r.t.Fatal(err)
		}
	}
}

// forgeInline rewrites a small file's @meta with a newer stamp and the
// four chunks of another content inline (node/store/record.go), keeping
// the old seal: all a node can do, for it cannot seal or encrypt.
func forgeInline(r *rig) ([]file, func(string, []file)) {
	files := []file{newFile("c.bin", random(20<<10))}
	r.put(files[0].name, files[0].data)
	return files, func(nodeDir string, files []file) {
		e := fileOfSize(r.t, nodeDir, int64(len(files[0].data)))
		_, raw, _ := readRecord(e.dir)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			r.t.Fatal(err)
		}
		forged := bytes.Repeat([]byte("FORGED! "), len(files[0].data)/8)
		seg := store.SegmentRecord{Index: 0, ID: core.NewVersion(), Size: int64(len(forged))}
		inline := map[int][]byte{}
		var all []byte
		for c := 0; c < core.NumChunks; c++ {
			s, end := core.ChunkBounds(seg.Size, c)
			// As stored: as long as an encrypted chunk would be.
			chunk := append(slices.Clone(forged[s:end]), bytes.Repeat([]byte("!"), core.ChunkOverhead)...)
			sum := sha256.Sum256(chunk)
			seg.Chunks[c] = store.ChunkRecord{Size: int64(len(chunk)), SHA256: hex.EncodeToString(sum[:])}
			inline[c] = chunk
			all = append(all, chunk...)
		}
		sum := md5.Sum(all)
		seg.MD5 = hex.EncodeToString(sum[:])
		stamp := core.NewVersion()
		m["stamp"], m["version"], m["size"], m["mtime"] = stamp, stamp, seg.Size, time.Now().UnixNano()
		m["segments"], m["inline"] = []store.SegmentRecord{seg}, inline
		rewriteMeta(r.t, e.dir, m)
	}
}

// flipChunk flips a byte in the middle of a chunk file DFS1 holds and
// recomputes its block's CRC, so that the node serves it as sound; with
// rehash, the SHA-256 in its header too.
func flipChunk(rehash bool) func(r *rig) ([]file, func(string, []file)) {
	return func(r *rig) ([]file, func(string, []file)) {
		files := []file{newFile("d.bin", random(3<<20))}
		r.put(files[0].name, files[0].data)
		return files, func(nodeDir string, files []file) {
			_, path, mid := heldChunk(r.t, nodeDir, &files[0])
			// An encrypted chunk starts with its 12-byte nonce: the
			// plaintext byte this flips is in the same 4 KiB of the file
			// either way.
			flipByte(r.t, path, mid+2048, rehash)
		}
	}
}

// oldChunk puts back, in place of a chunk file of a file's current
// version, that chunk of the version before (copied from the nodes before
// the overwrite), under the current segment's name and header so that the
// node serves it as sound.
func oldChunk(r *rig) ([]file, func(string, []file)) {
	const size = 3 << 20
	r.put("e.bin", random(size))
	old := map[int][]byte{}
	for n := 0; n < core.NumNodes; n++ {
		seg := fileOfSize(r.t, r.Dir(n), size).rec.Segments[0]
		for c, path := range chunkFiles(r.t, r.Dir(n), seg.ID) {
			b, err := os.ReadFile(path)
			if err != nil {
				r.t.Fatal(err)
			}
			old[c] = b
		}
	}
	files := []file{newFile("e.bin", random(size))}
	r.put(files[0].name, files[0].data)
	return files, func(nodeDir string, files []file) {
		c, path, _ := heldChunk(r.t, nodeDir, &files[0])
		cur, err := os.ReadFile(path)
		if err != nil {
			r.t.Fatal(err)
		}
		if len(old[c]) != len(cur) {
			r.t.Fatalf("chunk %d: the old version's file has %d bytes, the current one's %d", c, len(old[c]), len(cur))
		}
		forged := append(cur[:store.ChunkHeaderSize:store.ChunkHeaderSize], old[c][store.ChunkHeaderSize:]...)
		if err := os.WriteFile(path, forged, 0o600); err != nil {
			r.t.Fatal(err)
		}
	}
}

// heldChunk picks a chunk file the node holds of f's one segment and
// points f's ranged read at the 4 KiB in its middle. It returns the
// chunk's index, its file and where in the chunk that read is.
func heldChunk(t *testing.T, nodeDir string, f *file) (int, string, int64) {
	t.Helper()
	seg := fileOfSize(t, nodeDir, int64(len(f.data))).rec.Segments[0]
	held := chunkFiles(t, nodeDir, seg.ID)
	for c := 0; c < core.NumChunks; c++ {
		if path, ok := held[c]; ok {
			s, e := core.ChunkBounds(seg.Size, c)
			mid := ((e - s) / 2) &^ 4095
			f.at = s + mid
			return c, path, mid
		}
	}
	t.Fatalf("%s holds no chunk file of segment %s (files in %s)", nodeDir, seg.ID, filepath.Join(userDir(nodeDir), "segments"))
	return 0, "", 0
}
