package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"dfs/core"
)

// testCommits covers the shapes of COMMIT requests clients send (a put, a
// small put with need, a heal's) and a few odd ones the codec must carry.
func testCommits() []CommitReq {
	ms := testMetas()
	file, sparse, odd := ms[0], ms[2], ms[8]
	for _, m := range []*Meta{&file, &sparse, &odd} {
		m.Path, m.Held = "", nil // not sent in requests
	}
	return []CommitReq{
		{Path: "photos/2024/IMG_0001.jpg", Upload: "00112233445566778899aabbccddeeff", Meta: file},
		{Path: "small.txt", Upload: "00112233445566778899aabbccddeeff", Meta: file, Sync: true, New: true, Need: []int{0, 1, 3}},
		{Path: "disk.img", Meta: sparse, Sync: true, Need: []int{5, 11}},
		{Path: "Ünïcode/\x00 odd", Upload: "not hex", Meta: odd, New: true, Need: []int{1<<31 - 1}},
		{},
	}
}

func TestCommitReqRoundTrip(t *testing.T) {
	for i, req := range testCommits() {
		b := AppendCommitReq(nil, &req)
		got, err := DecodeCommitReq(b)
		if err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, req) {
			t.Errorf("commit %d decodes as\n%+v\nwant\n%+v", i, got, req)
		}
	}
	// A request's Meta.Path is not sent, an empty need is nil.
	req := CommitReq{Path: "a", Meta: Meta{Path: "ignored"}, Need: []int{}}
	got, err := DecodeCommitReq(AppendCommitReq(nil, &req))
	if err != nil || got.Meta.Path != "" || got.Need != nil {
		t.Errorf("decodes as %+v, %v", got, err)
	}
}

func TestCommitReqBad(t *testing.T) {
	good := AppendCommitReq(nil, &CommitReq{Path: "a", Need: []int{2}})
	// good: flags 0, path 1 'a', upload tag 0, need count 1, gap 2, fields.
	splice := func(at, n int, with ...byte) []byte {
		return append(append(append([]byte(nil), good[:at]...), with...), good[at+n:]...)
	}
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"unknown flag", splice(0, 1, 0x04)},
		{"path past the body", splice(1, 1, 0x7f)},
		{"upload tag", splice(3, 1, 9)},
		{"need count past the body", splice(4, 1, 0x7f)},
		{"need count long", splice(4, 1, 0x81, 0x00)},
		{"need past int32", splice(5, 1, 0xff, 0xff, 0xff, 0xff, 0x0f)},
		{"trailing byte", append(append([]byte(nil), good...), 0)},
		{"no meta", good[:6]},
		{"seal over MaxSeal", AppendCommitReq(nil, &CommitReq{Path: "a", Meta: Meta{Seal: strings.Repeat("s", MaxSeal+1)}})},
	} {
		if _, err := DecodeCommitReq(c.body); !errors.Is(err, ErrBadRecord) {
			t.Errorf("%s: %v, want ErrBadRecord", c.name, err)
		}
	}
}

// TestCommitReqNeedSet checks that need travels as a set: sorted, each
// entry once (a node's chunks of a segment may be 3 and 0).
func TestCommitReqNeedSet(t *testing.T) {
	req := CommitReq{Need: []int{3, 0, 3}}
	got, err := DecodeCommitReq(AppendCommitReq(nil, &req))
	if err != nil || !reflect.DeepEqual(got.Need, []int{0, 3}) {
		t.Errorf("need %v decodes as %v, %v", req.Need, got.Need, err)
	}
	if !reflect.DeepEqual(req.Need, []int{3, 0, 3}) {
		t.Errorf("the request's need changed to %v", req.Need)
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic for a negative need")
		}
	}()
	AppendCommitReq(nil, &CommitReq{Need: []int{-1, 2}})
}

// maxMeta is the largest meta a node holds: a file of core.MaxFileSize with
// every segment stored and held, ids and hashes as clients make them.
func maxMeta(path string) Meta {
	n := core.NumSegments(core.MaxFileSize)
	m := Meta{Path: path, Stamp: testStamp, Born: testBorn, Version: testStamp, Size: core.MaxFileSize,
		Mode: 0o644, MTime: 1 << 62, Segments: make([]Segment, n), Held: make([]uint8, n), Seal: testSeal}
	for k := range m.Segments {
		m.Segments[k] = testSegment(int64(k))
		m.Segments[k].ID = fmt.Sprintf("18a2b3c4d5e6%04x%08x", k>>16, k) // each its own, as clients make them
		m.Held[k] = 0xf
	}
	return m
}

// TestMaxFileFitsFrames checks that the frames carrying a meta of
// core.MaxFileSize fit their caps with room to spare: a COMMIT request
// with the longest path and every chunk needed, and a LOOKUP reply whose
// chain holds the most folders a path can have (2,048: "a/a/.../a").
func TestMaxFileFitsFrames(t *testing.T) {
	deep := strings.Repeat("a/", core.MaxPath/2-1) + "a"
	m := maxMeta(deep)
	if err := CheckSegments(&m); err != nil {
		t.Fatal(err)
	}
	req := CommitReq{Path: deep, Upload: "00112233445566778899aabbccddeeff", Meta: m, Sync: true}
	req.Meta.Path, req.Meta.Held = "", nil
	for i := range 4 * len(m.Segments) {
		req.Need = append(req.Need, i)
	}
	commit := AppendCommitReq(nil, &req)
	var chain []Meta
	for p := deep; p != ""; p = core.Parent(p) {
		chain = append([]Meta{{Path: core.Parent(p), Dir: true, Stamp: testStamp, Born: testBorn, Mode: 0o755, MTime: 1 << 62}}, chain...)
	}
	chain = append(chain, m)
	lookup := AppendLookupResp(nil, chain)
	list := append(AppendListHead(nil, true, chain[:len(chain)-1]), AppendMeta(nil, &m)...)
	t.Logf("max file: commit %d bytes (cap %d), lookup %d (cap %d), list %d", len(commit), MaxMetaFrame, len(lookup), MaxListFrame, len(list))
	if len(commit) > MaxMetaFrame*8/10 {
		t.Errorf("a max-size commit takes %d bytes, over 80%% of MaxMetaFrame", len(commit))
	}
	if len(lookup) > MaxListFrame*8/10 || len(list) > MaxListFrame*8/10 {
		t.Errorf("a max-size lookup takes %d bytes, a list %d: over 80%% of MaxListFrame", len(lookup), len(list))
	}
	got, err := DecodeCommitReq(commit)
	if err != nil || len(got.Meta.Segments) != len(m.Segments) || len(got.Need) != len(req.Need) {
		t.Fatalf("decode: %v", err)
	}
	big := m
	big.Size++
	if err := CheckSegments(&big); !errors.Is(err, ErrBadSegments) {
		t.Errorf("a meta past MaxFileSize: %v", err)
	}
}

// FuzzDecodeCommitReq feeds arbitrary bytes to the COMMIT decoder: it must
// return errors, never panic, and what decodes re-encodes to the same
// bytes (the encoding is canonical).
func FuzzDecodeCommitReq(f *testing.F) {
	for _, req := range testCommits() {
		f.Add(AppendCommitReq(nil, &req))
	}
	f.Add([]byte{3, 0, 0, 2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeCommitReq(b)
		if err != nil {
			if !errors.Is(err, ErrBadRecord) {
				t.Fatalf("error without ErrBadRecord: %v", err)
			}
			return
		}
		if again := AppendCommitReq(nil, &req); !bytes.Equal(again, b) {
			t.Fatalf("re-encodes differently:\n  in %x\n out %x", b, again)
		}
	})
}

func ExampleAppendCommitReq() {
	req := CommitReq{Path: "a.txt", Upload: "00ff", Sync: true, Need: []int{0, 1, 5},
		Meta: Meta{Stamp: "01", Born: "01", Version: "01", Size: 0, Mode: 0o644}}
	fmt.Printf("% x\n", AppendCommitReq(nil, &req))
	// Output: 01 05 61 2e 74 78 74 01 02 00 ff 03 00 00 03 00 01 01 01 01 01 01 01 01 01 00 a4 03 00 00 00 00 00 00 00 00
}

// TestCommitDecodeBounds: counts beyond the largest file and need entries
// that overflow are refused before the decoder allocates for them.
func TestCommitDecodeBounds(t *testing.T) {
	head := []byte{0, 1, 'f', 0} // flags, path "f", no upload
	meta := AppendMetaFields(nil, &Meta{Stamp: "a1", Version: "b2"})
	cases := map[string][]byte{
		// A need count just over every chunk of the largest file, with
		// room in the body for it.
		"need count": append(append(binary.AppendUvarint(slices.Clone(head), maxNeed+1), make([]byte, maxNeed+1)...), meta...),
		// MaxInt32, then a gap that wraps below zero.
		"need overflow": append(binary.AppendUvarint(binary.AppendUvarint(binary.AppendUvarint(slices.Clone(head), 2),
			math.MaxInt32), 1<<64-1-math.MaxInt32-5), meta...),
	}
	for name, body := range cases {
		if req, err := DecodeCommitReq(body); !errors.Is(err, ErrBadRecord) {
			t.Errorf("%s: need %v, %v", name, len(req.Need), err)
		}
	}
	// A meta listing more segments than the largest file has.
	m := Meta{Stamp: "a1", Version: "b2", Segments: make([]Segment, maxSegments+1)}
	for i := range m.Segments {
		m.Segments[i].Index = int64(i)
	}
	if _, _, err := DecodeMetaFields(AppendMetaFields(nil, &m)); !errors.Is(err, ErrBadRecord) {
		t.Errorf("%d segments: %v", len(m.Segments), err)
	}
	// A segment index that wraps past the largest int64.
	m = Meta{Segments: []Segment{{Index: math.MaxInt64}, {}}}
	rec := AppendMetaFields(nil, &m)
	if got, _, err := DecodeMetaFields(rec); err == nil {
		t.Errorf("a second segment after index MaxInt64 decoded: %v", got.Segments[1].Index)
	}
}
