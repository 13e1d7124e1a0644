package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"dfs/node/store"
)

// BenchmarkList10k lists a folder of 10,000 small files (made on disk
// directly, as commits would leave them).
func BenchmarkList10k(b *testing.B) {
	n := startNode(b, nil)
	c := login(b, n.addr, "alice", "Crimson33")
	if _, _, err := c.upload("d/first", []byte("x")); err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(n.dir, "users", "alice", "files", "d")
	m := store.Record{Stamp: "0000018b00000000aaaaaaaa", Born: "0000018b00000000aaaaaaaa", Version: "0000018b00000000aaaaaaaa",
		Size: 4096, Mode: 0o644, Inline: map[int][]byte{0: make([]byte, 1024), 1: make([]byte, 1024)},
		Segments: []store.SegmentRecord{{ID: "0000018b00000000aaaaaaab", Size: 4096, MD5: "00000000000000000000000000000000"}}}
	for c := range m.Segments[0].Chunks {
		m.Segments[0].Chunks[c] = store.ChunkRecord{Size: 1024, SHA256: "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"}
	}
	data, _ := json.Marshal(m)
	for i := 0; i < 10000; i++ {
		d := filepath.Join(dir, fmt.Sprintf("f%05d", i))
		os.Mkdir(d, 0o700)
		if err := os.WriteFile(filepath.Join(d, "@meta"), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, entries, err := c.list("d", false)
		if err != nil || len(entries) < 10000 {
			b.Fatalf("%d entries, %v", len(entries), err)
		}
	}
}
