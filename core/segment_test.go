package core

import (
	"crypto/md5"
	"fmt"
	"strings"
	"testing"
)

// The bounds of every segment for sizes around the segment size: segments
// are contiguous, cover the file, and all but the last are full.
func TestSegmentSpans(t *testing.T) {
	const S = SegmentSize
	for _, tc := range []struct {
		size  int64
		count int64
		last  int64 // length of the last segment
	}{
		{0, 0, 0}, {1, 1, 1}, {S - 1, 1, S - 1}, {S, 1, S}, {S + 1, 2, 1}, {3*S + 5, 4, 5},
	} {
		if got := NumSegments(tc.size); got != tc.count {
			t.Fatalf("NumSegments(%d) = %d, want %d", tc.size, got, tc.count)
		}
		var next int64
		for k := range tc.count {
			start, end := SegmentSpan(tc.size, k)
			if start != next || end <= start {
				t.Fatalf("size %d: segment %d spans [%d,%d) after %d", tc.size, k, start, end, next)
			}
			if k < tc.count-1 && end-start != S {
				t.Fatalf("size %d: segment %d of %d holds %d bytes, not a full segment", tc.size, k, tc.count, end-start)
			}
			if k == tc.count-1 && end-start != tc.last {
				t.Fatalf("size %d: last segment holds %d bytes, want %d", tc.size, end-start, tc.last)
			}
			if SegmentOf(start) != k || SegmentOf(end-1) != k {
				t.Fatalf("size %d: SegmentOf disagrees with segment %d's span", tc.size, k)
			}
			next = end
		}
		if next != tc.size {
			t.Fatalf("size %d: segments cover %d bytes", tc.size, next)
		}
	}
}

// Each segment of a file is placed by its own content's MD5 on the seed's
// table, the proof of concept's rule applied per segment: the x of a
// segment is its MD5's last byte mod 4 and the nodes of each chunk follow
// the table's row for x.
func TestSegmentPlacement(t *testing.T) {
	const S = SegmentSize
	for _, size := range []int64{1, S - 1, S, S + 1, 3*S + 5} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*7 + int(size))
		}
		for k := range NumSegments(size) {
			start, end := SegmentSpan(size, k)
			seg := data[start:end]
			sum := md5.Sum(seg)
			x := int(sum[15]) % 4
			if got := PlacementX(sum[:]); got != x {
				t.Fatalf("size %d segment %d: x = %d, want %d", size, k, got, x)
			}
			for c := range NumChunks {
				cs, ce := ChunkBounds(int64(len(seg)), c)
				if c == 0 && cs != 0 || c == NumChunks-1 && ce != int64(len(seg)) {
					t.Fatalf("size %d segment %d: chunks do not cover the segment", size, k)
				}
				nodes := ChunkNodes(x, c)
				for n := range NumNodes {
					// Seed row x names, 1-based, the chunks node n keeps.
					row := seedTable[x][n]
					want := row[0] == c+1 || row[1] == c+1
					if got := nodes[0] == n || nodes[1] == n; got != want {
						t.Fatalf("size %d segment %d chunk %d: node %d holds=%v, seed says %v", size, k, c, n, got, want)
					}
				}
			}
		}
	}
}

func TestAllZero(t *testing.T) {
	for _, n := range []int{1, 7, 8, 9, 37, 200 << 10} {
		b := make([]byte, n)
		if !AllZero(b) {
			t.Fatalf("%d zeros not seen as zeros", n)
		}
		for _, i := range []int{0, 1, n / 2, n - 2, n - 1} {
			if i < 0 || i >= n {
				continue
			}
			b[i] = 1
			if AllZero(b) {
				t.Fatalf("a one at %d of %d not seen", i, n)
			}
			b[i] = 0
		}
	}
	if !AllZero(nil) {
		t.Fatal("nothing not seen as zeros")
	}
}

// TestMaxFileSize keeps ErrTooLarge's message in step with the limit.
func TestMaxFileSize(t *testing.T) {
	if NumSegments(MaxFileSize) != 65536 || MaxFileSize%SegmentSize != 0 {
		t.Fatalf("MaxFileSize %d is %d segments", MaxFileSize, NumSegments(MaxFileSize))
	}
	if want := fmt.Sprintf("up to %d GiB", MaxFileSize>>30); !strings.Contains(ErrTooLarge.Error(), want) {
		t.Errorf("ErrTooLarge says %q, want it to say %q", ErrTooLarge, want)
	}
}
