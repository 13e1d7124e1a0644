package crypt

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"dfs/core"
	"dfs/core/wire"
)

func testKeys(t testing.TB) *Keys {
	t.Helper()
	return DeriveRoot("alice", "Crimson33").mustUnwrap(t, "alice")
}

func (r *Root) mustUnwrap(t testing.TB, user string) *Keys {
	mk, err := r.Unwrap(user, r.Wrap(user, NewMasterKey()))
	if err != nil {
		t.Fatal(err)
	}
	return mk.Keys()
}

func TestLoginProof(t *testing.T) {
	r := DeriveRoot("alice", "Crimson33")
	login := r.Login()
	bind := []byte("connection one")
	proof := r.Prove("alice", bind)
	if !VerifyLogin(login, "alice", bind, proof) {
		t.Fatal("a proof does not verify")
	}
	if VerifyLogin(login, "alice", []byte("connection two"), proof) {
		t.Fatal("a proof made for one connection verifies on another")
	}
	if VerifyLogin(login, "bob", bind, proof) {
		t.Fatal("alice's proof verifies as bob's")
	}
	if VerifyLogin(LoginFor("alice", "wrong password"), "alice", bind, proof) {
		t.Fatal("a proof verifies against another password's verifier")
	}
	if strings.Contains(login+proof, "Crimson33") {
		t.Fatal("the password is in the verifier or proof")
	}
	if DeriveRoot("alice", "Crimson33") != r {
		t.Fatal("the root key is derived again")
	}
}

func TestWrapUnwrap(t *testing.T) {
	r := DeriveRoot("alice", "Crimson33")
	mk := NewMasterKey()
	blob := r.Wrap("alice", mk)
	if len(blob) != WrappedSize || WrappedID(blob) != mk.ID() {
		t.Fatalf("wrapped key of %d bytes, id %q", len(blob), WrappedID(blob))
	}
	got, err := r.Unwrap("alice", blob)
	if err != nil || *got != *mk {
		t.Fatalf("unwrap: %v", err)
	}
	if _, err := DeriveRoot("alice", "other password").Unwrap("alice", blob); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("another password unwraps: %v", err)
	}
	if _, err := r.Unwrap("bob", blob); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("alice's key unwraps as bob's: %v", err)
	}
	bad := bytes.Clone(blob)
	bad[len(bad)-1] ^= 1
	if _, err := r.Unwrap("alice", bad); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("a changed key unwraps: %v", err)
	}
	// A password change rewraps the same key.
	r2 := DeriveRoot("alice", "new password 2")
	got2, err := r2.Unwrap("alice", r2.Wrap("alice", got))
	if err != nil || *got2 != *mk {
		t.Fatalf("rewrap: %v", err)
	}
}

func TestNames(t *testing.T) {
	k := testKeys(t)
	for _, n := range []string{"a", "report.pdf", "0123456789abcdef", strings.Repeat("x", MaxName), "ünïcode ☃", "@meta", ".."} {
		e, err := k.EncryptName(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(e) > core.MaxComponent || len(e) != EncryptedLen(len(n)) || strings.ContainsAny(e, "/@.") {
			t.Fatalf("%q encrypts to %q (%d bytes)", n, e, len(e))
		}
		if e2, _ := k.EncryptName(n); e2 != e {
			t.Fatal("name encryption is not deterministic")
		}
		d, err := k.DecryptName(e)
		if err != nil || d != n {
			t.Fatalf("%q: decrypts to %q, %v", n, d, err)
		}
	}
	if _, err := k.EncryptName(strings.Repeat("x", MaxName+1)); !errors.Is(err, core.ErrNameTooLong) {
		t.Fatalf("a name past MaxName: %v", err)
	}
	e, _ := k.EncryptName("secret")
	for i := range len(e) {
		b := []byte(e)
		b[i] ^= 1
		if _, err := k.DecryptName(string(b)); err == nil {
			t.Fatalf("a name changed at %d decrypts", i)
		}
	}
	if _, err := testKeys(t).DecryptName(e); err == nil {
		t.Fatal("another user's key decrypts a name")
	}
	p, err := k.EncryptPath("a/b/c.txt")
	if err != nil || strings.Count(p, "/") != 2 {
		t.Fatalf("path: %q %v", p, err)
	}
	if d, err := k.DecryptPath(p); err != nil || d != "a/b/c.txt" {
		t.Fatalf("path decrypts to %q %v", d, err)
	}
}

func TestChunks(t *testing.T) {
	k := testKeys(t)
	for _, size := range []int{0, 1, 1000, 1 << 20} {
		plain := bytes.Repeat([]byte{7}, size)
		ct := k.SealChunk(nil, "seg1", 2, plain)
		if len(ct) != size+core.ChunkOverhead {
			t.Fatalf("%d bytes seal to %d", size, len(ct))
		}
		if size > 16 && bytes.Contains(ct, plain[:16]) {
			t.Fatal("plaintext in the sealed chunk")
		}
		got, err := k.OpenChunk(nil, "seg1", 2, ct)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("open: %v", err)
		}
		if _, err := k.OpenChunk(nil, "seg2", 2, ct); !errors.Is(err, core.ErrCorrupt) {
			t.Fatal("a chunk opens as another segment's")
		}
		if _, err := k.OpenChunk(nil, "seg1", 3, ct); !errors.Is(err, core.ErrCorrupt) {
			t.Fatal("a chunk opens at another position")
		}
		bad := bytes.Clone(ct)
		bad[len(bad)/2] ^= 0x80
		if _, err := k.OpenChunk(nil, "seg1", 2, bad); !errors.Is(err, core.ErrCorrupt) {
			t.Fatal("a flipped bit opens")
		}
		if _, err := k.OpenChunkInPlace("seg1", 2, bad); !errors.Is(err, core.ErrCorrupt) {
			t.Fatal("a flipped bit opens in place")
		}
		in := bytes.Clone(ct)
		got, err = k.OpenChunkInPlace("seg1", 2, in)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("open in place: %v", err)
		}
		if size > 0 && &got[0] != &in[core.ChunkOverhead-16] {
			t.Fatal("opened in place into another buffer")
		}
	}
	if _, err := k.OpenChunkInPlace("seg1", 2, make([]byte, core.ChunkOverhead-1)); !errors.Is(err, core.ErrCorrupt) {
		t.Fatal("a short chunk opens in place")
	}
}

func TestTargets(t *testing.T) {
	k := testKeys(t)
	e := k.EncryptTarget("../secret/place")
	if len(e) != EncryptedTargetLen(len("../secret/place")) || strings.Contains(e, "secret") {
		t.Fatalf("target %q", e)
	}
	if d, err := k.DecryptTarget(e); err != nil || d != "../secret/place" {
		t.Fatalf("%q %v", d, err)
	}
	if _, err := k.DecryptTarget(e[:len(e)-2] + "AA"); err == nil {
		t.Fatal("a changed target decrypts")
	}
}

func TestSeals(t *testing.T) {
	k := testKeys(t)
	file := wire.Meta{Stamp: "s2", Born: "b1", Version: "v2", Size: 10, Mode: 0o644, MTime: 5, CTime: 6,
		Segments: []wire.Segment{{Index: 0, ID: "seg", Size: 10, MD5: "m",
			Chunks: [core.NumChunks]wire.ChunkInfo{{Size: 31, SHA256: "h0"}, {Size: 30, SHA256: "h1"}}}}}
	file.Seal = k.SealEntry("f.txt", "pb", &file)
	if !k.VerifyEntry("f.txt", "pb", &file) {
		t.Fatal("a seal does not verify")
	}
	if k.VerifyEntry("g.txt", "pb", &file) || k.VerifyEntry("f.txt", "other folder", &file) {
		t.Fatal("a seal verifies under another name or folder")
	}
	changes := []func(m *wire.Meta){
		func(m *wire.Meta) { m.Stamp = "s3" },
		func(m *wire.Meta) { m.Born = "b2" },
		func(m *wire.Meta) { m.Version = "v1" },
		func(m *wire.Meta) { m.Size = 11 },
		func(m *wire.Meta) { m.Mode = 0o666 },
		func(m *wire.Meta) { m.UID = 1 },
		func(m *wire.Meta) { m.MTime = 7 },
		func(m *wire.Meta) { m.Deleted = true },
		func(m *wire.Meta) { m.Segments = nil },
		func(m *wire.Meta) { m.Segments = []wire.Segment{m.Segments[0]}; m.Segments[0].Chunks[1].SHA256 = "hx" },
		func(m *wire.Meta) { m.Segments = []wire.Segment{m.Segments[0]}; m.Segments[0].ID = "other" },
	}
	for i, ch := range changes {
		m := file
		ch(&m)
		if k.VerifyEntry("f.txt", "pb", &m) {
			t.Errorf("change %d keeps the seal valid", i)
		}
	}
	m := file
	m.Held, m.Path = []uint8{3}, "somewhere"
	if !k.VerifyEntry("f.txt", "pb", &m) {
		t.Fatal("Held or Path changes the seal")
	}
	dir := wire.Meta{Dir: true, Stamp: "s", Born: "b", Mode: 0o755, MTime: 1, CTime: 1}
	dir.Seal = k.SealEntry("d", "", &dir)
	dir.MTime, dir.CTime = 9, 9 // nodes move a folder's times
	if !k.VerifyEntry("d", "", &dir) {
		t.Fatal("a folder's times moved by a node break its seal")
	}
	if testKeys(t).VerifyEntry("f.txt", "pb", &file) {
		t.Fatal("another key verifies the seal")
	}
}

func FuzzDecrypt(f *testing.F) {
	k := DeriveRoot("fuzz", "fuzz password").mustUnwrap(f, "fuzz")
	e, _ := k.EncryptName("name")
	f.Add(e, []byte{1, 2, 3})
	f.Add("", k.SealChunk(nil, "s", 0, []byte("data")))
	f.Fuzz(func(t *testing.T, name string, chunk []byte) {
		if d, err := k.DecryptName(name); err == nil {
			if e, err := k.EncryptName(d); err != nil || e != name {
				t.Fatalf("%q decrypts to %q which encrypts to %q", name, d, e)
			}
		}
		k.DecryptPath(name)
		k.DecryptTarget(name)
		k.OpenChunk(nil, "s", 0, chunk)
		WrappedID(chunk)
		DeriveRoot("fuzz", "fuzz password").Unwrap("fuzz", chunk)
		VerifyLogin(name, "fuzz", chunk, name)
	})
}

func BenchmarkSealChunk(b *testing.B) {
	k := testKeys(b)
	p := make([]byte, 1<<20)
	out := make([]byte, 0, len(p)+core.ChunkOverhead)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		k.SealChunk(out[:0], "0123456789abcdef01234567", 1, p)
	}
}

func BenchmarkOpenChunk(b *testing.B) {
	k := testKeys(b)
	ct := k.SealChunk(nil, "0123456789abcdef01234567", 1, make([]byte, 1<<20))
	out := make([]byte, 0, 1<<20)
	b.SetBytes(1 << 20)
	for b.Loop() {
		if _, err := k.OpenChunk(out[:0], "0123456789abcdef01234567", 1, ct); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeriveRoot(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		roots.Clear()
		DeriveRoot("alice", "Crimson33")
	}
}
