package core

import (
	"crypto/md5"
	"math/big"
	"testing"
)

// The proof of concept's table, written out as it gives it: x -> the chunk
// pairs (1-based) for DFS1..DFS4.
var seedPairs = map[int][4]string{
	0: {"1,2", "2,3", "3,4", "4,1"},
	1: {"4,1", "1,2", "2,3", "3,4"},
	2: {"3,4", "4,1", "1,2", "2,3"},
	3: {"2,3", "3,4", "4,1", "1,2"},
}

func TestPlacementMatchesSeed(t *testing.T) {
	for x, pairs := range seedPairs {
		for n, want := range pairs {
			p := NodeChunks(x, n)
			got := string(rune('1'+p[0])) + "," + string(rune('1'+p[1]))
			if got != want {
				t.Errorf("x=%d DFS%d: chunks %s, want %s", x, n+1, got, want)
			}
		}
		for ch := 0; ch < NumChunks; ch++ {
			nodes := ChunkNodes(x, ch)
			for _, n := range nodes {
				if !NodeHolds(x, n, ch) {
					t.Errorf("x=%d chunk %d: DFS%d listed but does not hold it", x, ch+1, n+1)
				}
			}
		}
		// Opposite pairs each hold every chunk: the basis of the two-wave commit.
		for _, pair := range [][2]int{{0, 2}, {1, 3}} {
			seen := map[int]bool{}
			for _, n := range pair {
				for _, ch := range NodeChunks(x, n) {
					seen[ch] = true
				}
			}
			if len(seen) != NumChunks {
				t.Errorf("x=%d: DFS%d+DFS%d hold %d chunks, want 4", x, pair[0]+1, pair[1]+1, len(seen))
			}
		}
	}
}

func TestPlacementXIsDigestModFour(t *testing.T) {
	for _, s := range []string{"", "a", "hello world", "dfs", "0123456789"} {
		sum := md5.Sum([]byte(s))
		want := new(big.Int).Mod(new(big.Int).SetBytes(sum[:]), big.NewInt(4)).Int64()
		if got := PlacementX(sum[:]); int64(got) != want {
			t.Errorf("%q: x=%d, want %d", s, got, want)
		}
	}
}
