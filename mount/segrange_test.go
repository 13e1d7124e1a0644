package mount

import (
	"errors"
	"reflect"
	"testing"

	"dfs/core"
)

func TestSegRanges(t *testing.T) {
	const S = core.SegmentSize
	for _, tc := range []struct {
		off  int64
		n    int
		want []segRange
	}{
		{0, 0, nil},
		{5, 10, []segRange{{0, 5, 0, 10}}},
		{S - 1, 2, []segRange{{0, S - 1, 0, 1}, {1, 0, 1, 2}}},
		{S, int(S), []segRange{{1, 0, 0, int(S)}}},
		{S - 3, int(2*S) + 6, []segRange{{0, S - 3, 0, 3}, {1, 0, 3, int(S) + 3}, {2, 0, int(S) + 3, int(2*S) + 3}, {3, 0, int(2*S) + 3, int(2*S) + 6}}},
		{10 * S, 1, []segRange{{10, 0, 0, 1}}},
	} {
		if got := segRanges(tc.off, tc.n); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("segRanges(%d, %d) = %v, want %v", tc.off, tc.n, got, tc.want)
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
