package core

import "fmt"

// NumChunks is how many chunks every file is split into.
const NumChunks = 4

// ChunkBounds returns the byte range [start, end) of chunk i of a file of the
// given size: start = floor(i*size/4), end = floor((i+1)*size/4). Chunks are
// contiguous, cover the file, and differ in size by at most one byte.
func ChunkBounds(size int64, i int) (start, end int64) {
	if i < 0 || i >= NumChunks || size < 0 {
		panic(fmt.Sprintf("BUG: ChunkBounds(%d, %d)", size, i))
	}
	return mulDiv(size, int64(i)), mulDiv(size, int64(i+1))
}

// mulDiv computes floor(size*i/4) without overflow for any int64 size.
func mulDiv(size, i int64) int64 {
	q, r := size/NumChunks, size%NumChunks
	return q*i + r*i/NumChunks
}

// ChunkOf returns the chunk holding byte offset off of a file of the given
// size (off < size).
func ChunkOf(size, off int64) int {
	for i := 0; i < NumChunks; i++ {
		if _, end := ChunkBounds(size, i); off < end {
			return i
		}
	}
	panic(fmt.Sprintf("BUG: ChunkOf(%d, %d) beyond the end", size, off))
}
