package core

import "fmt"

// NumNodes is how many chunk nodes a cluster has (DFS1..DFS4).
const NumNodes = 4

// Copies is how many nodes keep each chunk, so that any one node can be lost.
const Copies = 2

// ChunksPerNode is how many of a file's chunks each node keeps.
const ChunksPerNode = NumChunks * Copies / NumNodes

// seedTable is the proof of concept's placement: for each x, the two chunks
// (1-based) that DFS1..DFS4 receive.
var seedTable = [NumChunks][NumNodes][ChunksPerNode]int{
	{{1, 2}, {2, 3}, {3, 4}, {4, 1}},
	{{4, 1}, {1, 2}, {2, 3}, {3, 4}},
	{{3, 4}, {4, 1}, {1, 2}, {2, 3}},
	{{2, 3}, {3, 4}, {4, 1}, {1, 2}},
}

// PlacementX is x = MD5(content) mod 4 with the digest read as one big-endian
// integer, which is its last byte mod 4.
func PlacementX(md5sum []byte) int {
	if len(md5sum) == 0 {
		panic("BUG: PlacementX of an empty digest")
	}
	return int(md5sum[len(md5sum)-1] % NumChunks)
}

// NodeChunks returns the two chunks (0-based) node n (0-based) holds for x.
func NodeChunks(x, n int) [ChunksPerNode]int {
	checkXN(x, n)
	p := seedTable[x][n]
	return [ChunksPerNode]int{p[0] - 1, p[1] - 1}
}

// ChunkNodes returns the two nodes (0-based, ascending) holding chunk c for x.
func ChunkNodes(x, c int) [Copies]int {
	var out [Copies]int
	k := 0
	for n := 0; n < NumNodes; n++ {
		p := NodeChunks(x, n)
		if p[0] == c || p[1] == c {
			out[k] = n
			k++
		}
	}
	if k != Copies {
		panic(fmt.Sprintf("BUG: chunk %d of x=%d is on %d nodes", c, x, k))
	}
	return out
}

// NodeHolds reports whether node n holds chunk c for x.
func NodeHolds(x, n, c int) bool {
	p := NodeChunks(x, n)
	return p[0] == c || p[1] == c
}

// NodeName is the node's name in dfc.conf: DFS1..DFS4.
func NodeName(n int) string { return fmt.Sprintf("DFS%d", n+1) }

func checkXN(x, n int) {
	if x < 0 || x >= NumChunks || n < 0 || n >= NumNodes {
		panic(fmt.Sprintf("BUG: placement x=%d node=%d", x, n))
	}
}
