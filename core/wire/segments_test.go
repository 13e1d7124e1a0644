package wire

import (
	"errors"
	"strings"
	"testing"

	"dfs/core"
)

// goodSegment is a valid segment of size bytes at index k.
func goodSegment(k, size int64) Segment {
	s := Segment{Index: k, ID: testStamp[:23] + string(rune('0'+k%10)), Size: size, MD5: testMD5} // an id per index
	for c := range s.Chunks {
		s.Chunks[c] = ChunkInfo{Size: StoredChunkSize(size, c), SHA256: testSHA}
	}
	return s
}

func TestCheckSegments(t *testing.T) {
	const S = core.SegmentSize
	ok := []Meta{
		{},
		{Size: 1, Segments: []Segment{goodSegment(0, 1)}},
		{Size: 3*S + 5, Segments: []Segment{goodSegment(0, S), goodSegment(3, 5)}},
		{Size: 3*S + 5, Segments: []Segment{goodSegment(1, 7)}}, // holes around a short segment
		{Size: 10 << 30}, // all hole
		{Size: core.MaxFileSize, Segments: []Segment{goodSegment(core.NumSegments(core.MaxFileSize)-1, S)}},
		{Dir: true},
	}
	for i, m := range ok {
		if err := CheckSegments(&m); err != nil {
			t.Errorf("ok case %d: %v", i, err)
		}
	}
	bad := map[string]Meta{
		"negative size":     {Size: -1},
		"past the limit":    {Size: core.MaxFileSize + 1},
		"index past end":    {Size: S, Segments: []Segment{goodSegment(1, 1)}},
		"unsorted":          {Size: 3 * S, Segments: []Segment{goodSegment(1, S), goodSegment(0, S)}},
		"duplicate":         {Size: 3 * S, Segments: []Segment{goodSegment(1, S), goodSegment(1, S)}},
		"over its span":     {Size: S + 5, Segments: []Segment{goodSegment(1, 6)}},
		"empty segment":     {Size: S, Segments: []Segment{{Index: 0, ID: testStamp, MD5: testMD5}}},
		"folder with data":  {Dir: true, Size: 1, Segments: []Segment{goodSegment(0, 1)}},
		"bad id":            {Size: 9, Segments: []Segment{func() Segment { s := goodSegment(0, 9); s.ID = "../x"; return s }()}},
		"bad md5":           {Size: 9, Segments: []Segment{func() Segment { s := goodSegment(0, 9); s.MD5 = strings.ToUpper(testMD5); return s }()}},
		"bad chunk size":    {Size: 9, Segments: []Segment{func() Segment { s := goodSegment(0, 9); s.Chunks[0].Size++; return s }()}},
		"missing chunk sha": {Size: 9, Segments: []Segment{func() Segment { s := goodSegment(0, 9); s.Chunks[3].SHA256 = ""; return s }()}},
		"plaintext chunk sizes": {Size: 9, Segments: []Segment{func() Segment {
			s := goodSegment(0, 9)
			for c := range s.Chunks {
				s.Chunks[c].Size -= core.ChunkOverhead
			}
			return s
		}()}},
		"empty share not stored": {Size: 2, Segments: []Segment{func() Segment { s := goodSegment(0, 2); s.Chunks[3].Size = 0; return s }()}},
	}
	for name, m := range bad {
		if err := CheckSegments(&m); !errors.Is(err, ErrBadSegments) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestStoredChunkSize: a chunk is stored with its encryption's overhead,
// an empty share too.
func TestStoredChunkSize(t *testing.T) {
	for _, c := range []struct {
		size int64
		c    int
		want int64
	}{{1, 0, 28}, {1, 3, 29}, {core.SegmentSize, 2, 1<<20 + 28}, {10, 1, 3 + 28}} {
		if got := StoredChunkSize(c.size, c.c); got != c.want {
			t.Errorf("chunk %d of %d bytes: %d, want %d", c.c, c.size, got, c.want)
		}
	}
}

func TestSegmentX(t *testing.T) {
	for _, c := range []struct {
		md5 string
		x   int
	}{{testMD5, 14 % 4}, {strings.Repeat("0", 31) + "3", 3}, {strings.Repeat("f", 32), 3}, {strings.Repeat("0", 31) + "4", 0}} {
		s := Segment{MD5: c.md5}
		if got := s.X(); got != c.x {
			t.Errorf("md5 %s: x = %d, want %d", c.md5, got, c.x)
		}
	}
}

// TestMaxSegments keeps the decoder's cap in step with the largest file.
func TestMaxSegments(t *testing.T) {
	if maxSegments != core.NumSegments(core.MaxFileSize) {
		t.Fatalf("maxSegments %d, the largest file has %d segments", maxSegments, core.NumSegments(core.MaxFileSize))
	}
}
