package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Ids and hashes as nodes send them: version ids 24 hex, MD5 32, SHA-256 64.
const (
	testStamp = "18a2b3c4d5e6f7a8deadbeef"
	testBorn  = "17f0000000000000cafef00d"
	testMD5   = "d41d8cd98f00b204e9800998ecf8427e"
	testSHA   = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	testSeal  = "q7Zk3c9XbVhY0wRr2T1uN5mA8sLpE4oFdGiJx6yHzK0" // as crypt's SealEntry makes it: 43 base64url
)

// testSegment is a full stored segment at index k.
func testSegment(k int64) Segment {
	s := Segment{Index: k, ID: testStamp, Size: 4 << 20, MD5: testMD5}
	for i := range s.Chunks {
		s.Chunks[i] = ChunkInfo{Size: StoredChunkSize(s.Size, i), SHA256: testSHA}
	}
	return s
}

// testMetas covers the shapes of entries a node sends and a few it never
// does but the codec must still carry exactly.
func testMetas() []Meta {
	file := Meta{
		Path: "photos/2024/IMG_0001.jpg", Stamp: testStamp, Born: testBorn, Version: testStamp,
		Size: 4000001, Mode: 0o644, MTime: 1700000000123456789, Held: []uint8{0x3},
		Segments: []Segment{testSegment(0)}, Seal: testSeal,
	}
	file.Segments[0].Size = 4000001
	small := file
	small.Path = "small.txt"
	sparse := Meta{
		Path: "disk.img", Stamp: testStamp, Born: testBorn, Version: testStamp,
		Size: 10 << 30, Mode: 0o600, MTime: 1, Held: []uint8{0xf, 0x0, 0x9},
		Segments: []Segment{testSegment(0), testSegment(7), testSegment(2559)},
	}
	odd := Meta{
		Path: "Ünïcode/\x00\xff name", Stamp: "ABCDEF", Born: "abc", Version: "not hex",
		Size: -5, Mode: 1<<32 - 1, MTime: -1 << 62, Held: []uint8{},
		UID: 1<<32 - 1, GID: 1<<32 - 1, ATime: -1 << 63, CTime: 1<<63 - 1, Target: "abcd",
		Seal: strings.Repeat("\xff", MaxSeal), // the longest a decoder takes
	}
	oddSeg := Segment{Index: 1<<63 - 1, ID: "x", Size: -1 << 63, MD5: "0g"}
	oddSeg.Chunks[2] = ChunkInfo{Size: -1 << 63, SHA256: "ab"}
	oddSeg.Chunks[3] = ChunkInfo{Size: 1<<63 - 1, SHA256: "x"}
	odd2 := odd
	odd2.Path = "odd2"
	odd2.Segments = []Segment{{Index: 0}, oddSeg}
	odd2.Held = []uint8{0, 0xf}
	odd2.Seal = "abcdef" // lowercase hex: travels as bytes
	return []Meta{
		file,
		small,
		sparse,
		{Path: "photos", Dir: true, Stamp: testStamp, Born: testBorn, Mode: 0o1777, MTime: 1,
			UID: 1000, GID: 100, ATime: 1700000000123456789, CTime: 1700000000987654321, Seal: testSeal},
		{Path: "gone.txt", Deleted: true, Stamp: testStamp, Born: testBorn, Held: []uint8{}, Seal: testSeal},
		{Path: "old-folder", Dir: true, Deleted: true, Stamp: testStamp},
		{}, // root: empty path, every string empty, Held nil
		odd,
		odd2,
		{Path: "link", Stamp: testStamp, Born: testBorn, Version: testStamp, Size: 14, Mode: ModeSymlink | 0o777,
			MTime: 1, UID: 501, GID: 20, ATime: 2, CTime: 3, Target: "../photos/x.jp", Held: []uint8{}},
		{Path: "fifo", Stamp: testStamp, Born: testBorn, Version: testStamp, Mode: ModeFIFO | 0o4640, UID: 65534},
	}
}

// bigMeta has strings at the 64 KiB limit, hex and literal.
func bigMeta() Meta {
	m := Meta{Path: strings.Repeat("p", 64<<10), Stamp: strings.Repeat("ab", 32<<10), Born: strings.Repeat("x", 64<<10)}
	m.Segments = []Segment{{ID: strings.Repeat("Z", 64<<10)}}
	m.Segments[0].Chunks[3].SHA256 = strings.Repeat("Z", 64<<10)
	return m
}

func appendListResp(b []byte, r ListResp) []byte {
	b = AppendListHead(b, r.Done, r.Chain)
	for i := range r.Entries {
		b = AppendMeta(b, &r.Entries[i])
	}
	return b
}

func TestMetaRoundTrip(t *testing.T) {
	for _, m := range append(testMetas(), bigMeta()) {
		want := m
		rec := AppendMeta(nil, &m)
		got, rest, err := DecodeMeta(append(rec, 0xAA))
		if err != nil || !bytes.Equal(rest, []byte{0xAA}) {
			t.Fatalf("%q: decode: %v, rest %x", m.Path, err, rest)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: round trip\n got %#v\nwant %#v", m.Path, got, want)
		}
		fields := AppendMetaFields(nil, &m)
		if glued := AppendRecord(nil, m.Path, fields); !bytes.Equal(glued, rec) {
			t.Errorf("%q: AppendRecord differs from AppendMeta", m.Path)
		}
		got, rest, err = DecodeMetaFields(fields)
		want.Path = ""
		if err != nil || len(rest) != 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: fields round trip: %v, %d bytes left\n got %#v\nwant %#v", m.Path, err, len(rest), got, want)
		}
	}
}

func TestMetaSizes(t *testing.T) {
	m := testMetas()[0]
	js, _ := json.Marshal(m)
	bin := AppendMeta(nil, &m)
	t.Logf("file entry: %d bytes binary, %d bytes JSON", len(bin), len(js))
	// Path 1+24, flags 1, three ids 3x(1+1+12), size 4, mode 2, mtime 9,
	// uid, gid, atime, ctime 4x1, empty target 1, seal 1+1+43, segment
	// count 1; the segment: index 1, id 1+1+12, size 4, md5 1+1+16, four
	// chunks 4x(4 + 1+1+32); held 1.
	if want := 25 + 1 + 3*14 + 4 + 2 + 9 + 4 + 1 + 45 + 1 + 1 + 14 + 4 + 18 + 4*38 + 1; len(bin) != want {
		t.Errorf("file entry is %d bytes, want %d", len(bin), want)
	}
	if n := len(AppendMeta(nil, &Meta{})); n != minRecord {
		t.Errorf("empty record is %d bytes, minRecord says %d", n, minRecord)
	}
	one := AppendMeta(nil, &Meta{Segments: []Segment{{}}})
	if n := len(one) - minRecord; n != minSegment {
		t.Errorf("empty segment is %d bytes, minSegment says %d", n, minSegment)
	}
}

// TestHeldNormalized documents what the encoder does with a Held that does
// not match the segments: cut or padded with zeros to their number, high
// bits dropped, and nil stays distinct from empty.
func TestHeldNormalized(t *testing.T) {
	two := []Segment{{}, {Index: 1}}
	cases := []struct {
		segs     []Segment
		in, want []uint8
	}{
		{nil, nil, nil},
		{nil, []uint8{}, []uint8{}},
		{nil, []uint8{0xf}, []uint8{}},
		{two, []uint8{0x13}, []uint8{0x3, 0}},
		{two, []uint8{1, 2, 4}, []uint8{1, 2}},
		{two, nil, nil},
	}
	for _, c := range cases {
		got, _, err := DecodeMeta(AppendMeta(nil, &Meta{Segments: c.segs, Held: c.in}))
		if err != nil || !reflect.DeepEqual(got.Held, c.want) {
			t.Errorf("held %v: got %#v (%v), want %#v", c.in, got.Held, err, c.want)
		}
	}
}

func TestListRoundTrip(t *testing.T) {
	ms := testMetas()
	chain := []Meta{ms[6], ms[3]}
	cases := []ListResp{
		{Chain: chain, Entries: ms, Done: true},
		{Chain: chain, Entries: ms[:2], Done: false},
		{Chain: chain, Done: true}, // zero entries
		{Entries: ms[2:3]},         // a later batch: no chain
		{Done: true},               // an empty folder's only batch after the first
	}
	for i, c := range cases {
		body := appendListResp(nil, c)
		got, err := DecodeListResp(body)
		want := ListResp{Chain: c.Chain, Entries: c.Entries, Done: c.Done}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("case %d: %v\n got %#v\nwant %#v", i, err, got, want)
		}
	}
	// Entries pre-encoded by a node cache glue onto the head.
	body := AppendListHead(nil, true, chain)
	for i := range ms {
		body = AppendRecord(body, ms[i].Path, AppendMetaFields(nil, &ms[i]))
	}
	if got, err := DecodeListResp(body); err != nil || !reflect.DeepEqual(got.Entries, ms) {
		t.Errorf("glued records: %v", err)
	}
}

func TestLookupRoundTrip(t *testing.T) {
	ms := testMetas()
	for _, chain := range [][]Meta{nil, ms[5:6], {ms[5], ms[2], ms[0]}} {
		got, err := DecodeLookupResp(AppendLookupResp(nil, chain))
		if err != nil || !reflect.DeepEqual(got, LookupResp{Chain: chain}) {
			t.Errorf("chain of %d: %v\n got %#v", len(chain), err, got)
		}
	}
}

// TestTruncated cuts bodies at every length: a record or a LOOKUP body cut
// anywhere is refused; a LIST body is valid exactly where an entry ends.
func TestTruncated(t *testing.T) {
	ms := testMetas()
	for _, m := range ms {
		rec := AppendMeta(nil, &m)
		for n := range len(rec) {
			if _, _, err := DecodeMeta(rec[:n]); !errors.Is(err, ErrBadRecord) {
				t.Fatalf("%q cut at %d of %d: %v", m.Path, n, len(rec), err)
			}
		}
	}
	lookup := AppendLookupResp(nil, ms)
	for n := range len(lookup) {
		if _, err := DecodeLookupResp(lookup[:n]); !errors.Is(err, ErrBadRecord) {
			t.Fatalf("lookup cut at %d of %d: %v", n, len(lookup), err)
		}
	}
	list := AppendListHead(nil, false, ms[:2])
	valid := map[int]bool{len(list): true}
	for i := range ms {
		list = AppendMeta(list, &ms[i])
		valid[len(list)] = true
	}
	for n := range len(list) + 1 {
		r, err := DecodeListResp(list[:n])
		switch {
		case valid[n] && err != nil:
			t.Fatalf("list cut after an entry (%d bytes): %v", n, err)
		case !valid[n] && !errors.Is(err, ErrBadRecord):
			t.Fatalf("list cut at %d of %d: %v, %d entries", n, len(list), err, len(r.Entries))
		}
	}
}

// splice returns b with b[i:i+n] replaced by with.
func splice(b []byte, i, n int, with ...byte) []byte {
	return append(append(append([]byte(nil), b[:i]...), with...), b[i+n:]...)
}

func TestRefused(t *testing.T) {
	// The record of {Path: "p"} with one empty segment: 1 'p' | flags | 3
	// string tags | size mode mtime | uid gid atime ctime | target tag |
	// seal tag | count 1 | index, id tag, size, md5 tag, 4 x (chunk size,
	// tag).
	base := AppendMeta(nil, &Meta{Path: "p", Segments: []Segment{{}}})
	const flags, stamp, size, mode, uid, gid, target, seal, count, index, end = 2, 3, 6, 7, 9, 10, 13, 14, 15, 16, 28
	if len(base) != end {
		t.Fatalf("base record is %d bytes: %x", len(base), base)
	}
	uvarint := func(v uint64) []byte { return binary.AppendUvarint(nil, v) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	huge := uvarint(1 << 40)
	cases := []struct {
		name string
		rec  []byte
	}{
		{"flag bit 3", splice(base, flags, 1, 0x08)},
		{"flag bit 7", splice(base, flags, 1, 0x81)},
		{"held flag without mask", splice(base, flags, 1, recHeld)},
		{"segment count over the body", splice(base, count, 1, 2)},
		{"segment count huge", splice(base, count, 1, huge...)},
		{"segment index overflows", splice(base, count, 2, append([]byte{2, 0}, append(base[index+1:end], uvarint(1<<63-1)...)...)...)},
		{"long segment index", splice(base, index, 1, 0x80, 0x00)},
		{"held mask beyond chunk 3", append(splice(base, flags, 1, recHeld), 0x10)},
		{"string tag 3", splice(base, stamp, 1, 3)},
		{"string tag 255", splice(base, stamp, 1, 0xff)},
		{"empty hex", splice(base, stamp, 1, strHex, 0)},
		{"empty literal", splice(base, stamp, 1, strLiteral, 0)},
		{"hex as literal", splice(base, stamp, 1, strLiteral, 2, 'a', 'b')},
		{"huge string", splice(base, stamp, 1, cat([]byte{strLiteral}, huge)...)},
		{"huge hex", splice(base, stamp, 1, cat([]byte{strHex}, huge)...)},
		{"string over 64 KiB", splice(base, stamp, 1, cat([]byte{strLiteral}, uvarint(64<<10+1), bytes.Repeat([]byte{'x'}, 64<<10+1))...)},
		{"hex over 64 KiB", splice(base, stamp, 1, cat([]byte{strHex}, uvarint(32<<10+1), make([]byte, 32<<10+1))...)},
		{"string past the end", splice(base, stamp, 1, strLiteral, 20, 'x')},
		{"huge path", cat(huge, base[2:])},
		{"path over 64 KiB", cat(uvarint(64<<10+1), make([]byte, 64<<10+1), base[2:])},
		{"long varint", splice(base, size, 1, 0x80, 0x00)},
		{"varint overflow", splice(base, size, 1, bytes.Repeat([]byte{0xff}, 10)...)},
		{"varint 11 bytes", splice(base, size, 1, append(bytes.Repeat([]byte{0x80}, 10), 1)...)},
		{"mode over 32 bits", splice(base, mode, 1, uvarint(1<<32)...)},
		{"uid over 32 bits", splice(base, uid, 1, uvarint(1<<32)...)},
		{"gid over 32 bits", splice(base, gid, 1, uvarint(1<<40)...)},
		{"long uid", splice(base, uid, 1, 0x80, 0x00)},
		{"target tag 3", splice(base, target, 1, 3)},
		{"empty target literal", splice(base, target, 1, strLiteral, 0)},
		{"hex target as literal", splice(base, target, 1, strLiteral, 2, 'a', 'b')},
		{"seal tag 3", splice(base, seal, 1, 3)},
		{"empty seal literal", splice(base, seal, 1, strLiteral, 0)},
		{"seal over MaxSeal", splice(base, seal, 1, cat([]byte{strLiteral}, uvarint(MaxSeal+1), bytes.Repeat([]byte{'s'}, MaxSeal+1))...)},
		{"hex seal over MaxSeal", splice(base, seal, 1, cat([]byte{strHex}, uvarint(MaxSeal/2+1), make([]byte, MaxSeal/2+1))...)},
	}
	for _, c := range cases {
		_, _, err := DecodeMeta(c.rec)
		if !errors.Is(err, ErrBadRecord) {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		t.Logf("%s: %v", c.name, err)
		if msg := err.Error(); !strings.HasPrefix(msg, "wire: bad meta record: ") || strings.ContainsAny(msg, "\n") {
			t.Errorf("%s: error %q", c.name, msg)
		}
		// The same record refused inside either reply body.
		if _, err := DecodeListResp(append([]byte{0, 0}, c.rec...)); !errors.Is(err, ErrBadRecord) {
			t.Errorf("%s as a list entry: %v", c.name, err)
		}
		if _, err := DecodeLookupResp(append([]byte{1}, c.rec...)); !errors.Is(err, ErrBadRecord) {
			t.Errorf("%s in a lookup chain: %v", c.name, err)
		}
	}

	lookup := AppendLookupResp(nil, []Meta{{Path: "p"}})
	list := AppendListHead(nil, true, []Meta{{Path: "p"}})
	bodies := []struct {
		name string
		body []byte
		list bool
	}{
		{"empty list body", nil, true},
		{"list flag bit 1", splice(list, 0, 1, 0x02), true},
		{"list flags 0xff", splice(list, 0, 1, 0xff), true},
		{"list chain count huge", splice(list, 1, 1, huge...), true},
		{"list chain count over the body", splice(list, 1, 1, 2), true},
		{"list chain count long", splice(list, 1, 1, 0x81, 0x00), true},
		{"list trailing garbage", append(list, 0xff), true},
		{"empty lookup body", nil, false},
		{"lookup trailing byte", append(lookup, 0), false},
		{"lookup trailing record", append(lookup, base...), false},
		{"lookup count huge", splice(lookup, 0, 1, huge...), false},
		{"lookup count over the body", splice(lookup, 0, 1, 2), false},
		{"lookup count max", splice(lookup, 0, 1, uvarint(1<<64-1)...), false},
	}
	for _, c := range bodies {
		var err error
		if c.list {
			_, err = DecodeListResp(c.body)
		} else {
			_, err = DecodeLookupResp(c.body)
		}
		if !errors.Is(err, ErrBadRecord) {
			t.Errorf("%s: %v", c.name, err)
		}
		t.Logf("%s: %v", c.name, err)
	}
}

// FuzzDecodeMetas feeds arbitrary bytes to the record decoders: they must
// return errors, never panic. The encoding is canonical, so whatever decodes
// re-encodes to the same bytes and decodes again to the same value.
func FuzzDecodeMetas(f *testing.F) {
	ms := testMetas()
	f.Add(appendListResp(nil, ListResp{Chain: ms[6:7], Entries: ms, Done: true}))
	f.Add(appendListResp(nil, ListResp{Entries: ms[:3]}))
	f.Add(AppendListHead(nil, true, nil))
	f.Add(AppendLookupResp(nil, []Meta{ms[6], ms[3], ms[0]}))
	f.Add(AppendMeta(nil, &ms[4]))
	f.Add(AppendMeta(nil, &ms[2]))
	f.Add(AppendLookupResp(nil, ms[9:]))
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := DecodeListResp(b); err == nil {
			again := appendListResp(nil, r)
			if !bytes.Equal(again, b) {
				t.Fatalf("list re-encodes differently:\n  in %x\n out %x", b, again)
			}
			r2, err := DecodeListResp(again)
			if err != nil || !reflect.DeepEqual(r, r2) {
				t.Fatalf("list decodes differently the second time: %v", err)
			}
		} else if !errors.Is(err, ErrBadRecord) {
			t.Fatalf("list error without ErrBadRecord: %v", err)
		}
		if r, err := DecodeLookupResp(b); err == nil {
			if again := AppendLookupResp(nil, r.Chain); !bytes.Equal(again, b) {
				t.Fatalf("lookup re-encodes differently:\n  in %x\n out %x", b, again)
			}
		} else if !errors.Is(err, ErrBadRecord) {
			t.Fatalf("lookup error without ErrBadRecord: %v", err)
		}
		if m, rest, err := DecodeMeta(b); err == nil {
			if again := AppendMeta(nil, &m); !bytes.Equal(append(again, rest...), b) {
				t.Fatalf("record re-encodes differently:\n  in %x\n out %x", b, again)
			}
		} else if !errors.Is(err, ErrBadRecord) {
			t.Fatalf("record error without ErrBadRecord: %v", err)
		}
	})
}

// benchList is a LIST batch of n file entries as a node sends them.
func benchList(n int) ListResp {
	ms := testMetas()
	r := ListResp{Chain: []Meta{ms[6], ms[3]}, Done: true}
	for i := range n {
		m := ms[0]
		m.Path = fmt.Sprintf("photos/2024/IMG_%04d.jpg", i)
		m.Stamp = fmt.Sprintf("18a2b3c4d5e6%04xdeadbeef", i)
		m.Version = m.Stamp
		r.Entries = append(r.Entries, m)
	}
	return r
}

// BenchmarkListCodec encodes and decodes a 1000-entry LIST batch with JSON
// (as replies were before) and with the binary codec; -decode variants
// measure the client's side alone. B/body is the size of the encoded batch.
func BenchmarkListCodec(b *testing.B) {
	r := benchList(1000)
	js, err := json.Marshal(r)
	if err != nil {
		b.Fatal(err)
	}
	bin := appendListResp(nil, r)
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			body, _ := json.Marshal(r)
			var got ListResp
			if err := json.Unmarshal(body, &got); err != nil || len(got.Entries) != 1000 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(js)), "B/body")
	})
	b.Run("binary", func(b *testing.B) {
		var body []byte
		for b.Loop() {
			body = appendListResp(body[:0], r)
			got, err := DecodeListResp(body)
			if err != nil || len(got.Entries) != 1000 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(bin)), "B/body")
	})
	b.Run("json-decode", func(b *testing.B) {
		for b.Loop() {
			var got ListResp
			if err := json.Unmarshal(js, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary-decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeListResp(bin); err != nil {
				b.Fatal(err)
			}
		}
	})
}
