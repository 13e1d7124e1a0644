package client_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
)

// ctxT returns a context that ends with the test (bounded, so a hang fails
// instead of blocking the suite).
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// randBytes returns n random bytes with a non-zero first byte in every
// segment: a segment of zeros is stored as a hole, which a test of one
// byte would otherwise meet once in 256 runs.
func randBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += int(core.SegmentSize) {
		b[i] |= 1
	}
	return b
}

// put stores data under name.
func put(t testing.TB, cl *client.Client, name string, data []byte) (client.PutResult, error) {
	t.Helper()
	return cl.Put(ctxT(t), name, bytes.NewReader(data), int64(len(data)), client.PutOptions{})
}

func mustPut(t testing.TB, cl *client.Client, name string, data []byte) client.PutResult {
	t.Helper()
	res, err := put(t, cl, name, data)
	if err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
	return res
}

// get fetches name into memory through a temp file.
func get(t testing.TB, cl *client.Client, name string) ([]byte, error) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "get")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := cl.Get(ctxT(t), name, f, nil); err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	return io.ReadAll(f)
}

func mustGet(t testing.TB, cl *client.Client, name string, want []byte) {
	t.Helper()
	got, err := get(t, cl, name)
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("get %s: %d bytes differ from the %d put", name, len(got), len(want))
	}
}

// chunkFiles lists the chunk files of a node's stored segments
// (users/*/segments/<xx>/<id>.c<N>), released ones waiting out the grace
// period included.
func chunkFiles(t testing.TB, dir string) []string {
	var out []string
	filepath.Walk(filepath.Join(dir, "users"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && filepath.Base(filepath.Dir(filepath.Dir(p))) == "segments" {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// xOf is the placement of a file of one segment.
func xOf(e client.Entry) int {
	if len(e.Segments) == 0 {
		return 0
	}
	return e.Segments[0].X()
}

func ptrMode(m uint32) *os.FileMode { fm := os.FileMode(m); return &fm }

// entryDir is the folder of name's entry in user's files on the node whose
// data folder is data: its path encrypted, as the node stores it.
func entryDir(t testing.TB, cl *client.Client, data, user, name string) string {
	t.Helper()
	enc, err := cl.StoredName(ctxT(t), name)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(data, "users", user, "files", filepath.FromSlash(enc))
}
