package mount

import (
	"errors"
	"reflect"
	"testing"

	"dfs/core"
)

func TestPieces(t *testing.T) {
	const S = core.SegmentSize
	for _, tc := range []struct {
		off  int64
		n    int
		want []piece
	}{
		{0, 0, nil},
		{5, 10, []piece{{0, 5, 0, 10}}},
		{S - 1, 2, []piece{{0, S - 1, 0, 1}, {1, 0, 1, 2}}},
		{S, int(S), []piece{{1, 0, 0, int(S)}}},
		{S - 3, int(2*S) + 6, []piece{{0, S - 3, 0, 3}, {1, 0, 3, int(S) + 3}, {2, 0, int(S) + 3, int(2*S) + 3}, {3, 0, int(2*S) + 3, int(2*S) + 6}}},
		{10 * S, 1, []piece{{10, 0, 0, 1}}},
	} {
		if got := pieces(tc.off, tc.n); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("pieces(%d, %d) = %v, want %v", tc.off, tc.n, got, tc.want)
		}
	}
}

func TestCutSegment(t *testing.T) {
	const S = core.SegmentSize
	for size, want := range map[int64]int64{0: -1, 1: 0, S - 1: 0, S: -1, S + 1: 1, 3 * S: -1, 3*S + 7: 3} {
		if got := cutSegment(size); got != want {
			t.Errorf("cutSegment(%d) = %d, want %d", size, got, want)
		}
	}
}

func TestAllZero(t *testing.T) {
	b := make([]byte, 37)
	if !allZero(b) || !allZero(nil) {
		t.Fatal("zeros not seen as zeros")
	}
	for i := range b {
		b[i] = 1
		if allZero(b) {
			t.Fatalf("a one at %d not seen", i)
		}
		b[i] = 0
	}
}

func TestFitWrite(t *testing.T) {
	const M = core.MaxFileSize
	p := make([]byte, 10)
	for _, tc := range []struct {
		off  int64
		n    int // bytes of p written, -1: ErrTooLarge
		size int
	}{
		{0, 10, 10},
		{M - 10, 10, 10},
		{M - 4, 4, 10},
		{M - 1, 1, 10},
		{M, -1, 10},
		{M + 5, -1, 10},
		{M, 0, 0},
		{M + 5, 0, 0},
		{1 << 62, -1, 1},
	} {
		got, err := fitWrite(p[:tc.size], tc.off)
		if tc.n < 0 {
			if !errors.Is(err, core.ErrTooLarge) {
				t.Errorf("%d bytes at %d: %d, %v, want ErrTooLarge", tc.size, tc.off, len(got), err)
			}
			continue
		}
		if err != nil || len(got) != tc.n {
			t.Errorf("%d bytes at %d: %d, %v, want %d", tc.size, tc.off, len(got), err, tc.n)
		}
	}
}
