package mount

import (
	"bytes"
	"crypto/md5"
	"math/rand/v2"
	"testing"
)

// TestContentHash: writes from the start in order are hashed as they come;
// any other pattern turns hashing off (Put then hashes the file itself).
func TestContentHash(t *testing.T) {
	data := make([]byte, 5<<20+17)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	want := md5.Sum(data)
	sp, err := newSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	for off := 0; off < len(data); {
		n := min(len(data)-off, 1+r.IntN(maxWrite))
		if _, err := sp.writeAt(data[off:off+n], int64(off)); err != nil {
			t.Fatal(err)
		}
		off += n
	}
	if got := sp.md5(); !bytes.Equal(got, want[:]) {
		t.Fatalf("md5 while writing %x, want %x", got, want)
	}
	// More data after an upload keeps the stream going.
	sp.writeAt([]byte("more"), int64(len(data)))
	want = md5.Sum(append(data, "more"...))
	if got := sp.md5(); !bytes.Equal(got, want[:]) {
		t.Fatalf("md5 after appending %x, want %x", got, want)
	}

	for name, spoil := range map[string]func(sp *spool){
		"rewrite":  func(sp *spool) { sp.writeAt([]byte("x"), 3) },
		"hole":     func(sp *spool) { sp.writeAt([]byte("x"), sp.size+10) },
		"truncate": func(sp *spool) { sp.truncate(5) },
		"extend":   func(sp *spool) { sp.truncate(sp.size + 100) },
	} {
		sp, err := newSpool(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		sp.writeAt(data[:1000], 0)
		spoil(sp)
		if got := sp.md5(); got != nil {
			t.Errorf("%s: md5 %x, want none (not a stream from the start)", name, got)
		}
		sp.close()
	}
}
