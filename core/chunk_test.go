package core

import "testing"

func TestChunkBoundsSmall(t *testing.T) {
	// want[size] lists the four chunk sizes.
	want := map[int64][4]int64{
		0: {0, 0, 0, 0}, 1: {0, 0, 0, 1}, 2: {0, 1, 0, 1}, 3: {0, 1, 1, 1},
		4: {1, 1, 1, 1}, 5: {1, 1, 1, 2}, 6: {1, 2, 1, 2}, 7: {1, 2, 2, 2},
		8: {2, 2, 2, 2}, 9: {2, 2, 2, 3},
	}
	for size, sizes := range want {
		for i := 0; i < NumChunks; i++ {
			s, e := ChunkBounds(size, i)
			if e-s != sizes[i] {
				t.Errorf("size %d chunk %d: %d bytes, want %d", size, i, e-s, sizes[i])
			}
		}
	}
}

func TestChunkBoundsCover(t *testing.T) {
	for _, size := range []int64{0, 1, 2, 3, 5, 7, 13, 1021, 1<<20 + 3, 1<<40 + 1, 1<<62 + 7} {
		var prev int64
		for i := 0; i < NumChunks; i++ {
			s, e := ChunkBounds(size, i)
			if s != prev || e < s {
				t.Fatalf("size %d chunk %d: [%d,%d) after %d", size, i, s, e, prev)
			}
			if d := e - s - size/4; d < 0 || d > 1 {
				t.Fatalf("size %d chunk %d: %d bytes, not near %d", size, i, e-s, size/4)
			}
			prev = e
		}
		if prev != size {
			t.Fatalf("size %d: chunks end at %d", size, prev)
		}
	}
}

func TestChunkOf(t *testing.T) {
	for _, size := range []int64{1, 2, 5, 9, 1<<20 + 3} {
		for off := int64(0); off < size; off += 1 + size/50 {
			ch := ChunkOf(size, off)
			s, e := ChunkBounds(size, ch)
			if off < s || off >= e {
				t.Fatalf("ChunkOf(%d,%d)=%d but chunk is [%d,%d)", size, off, ch, s, e)
			}
		}
	}
}
