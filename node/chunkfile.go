package node

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
)

// Chunk file body: the data in blocks of blockSize bytes, each followed by
// its CRC-32C (big-endian); the last block may be short.
const blockSize = 64 << 10

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt marks a chunk file whose header, length or checksums are wrong.
var errCorrupt = errors.New("chunk file is corrupt")

// chunkFileSize is the length on disk of a chunk file holding size bytes.
func chunkFileSize(size int64) int64 {
	blocks := (size + blockSize - 1) / blockSize
	return ChunkHeaderSize + size + 4*blocks
}

// chunkWriter writes data into a new chunk file after a placeholder header,
// hashing it. The first write error is kept in err and later data is
// discarded, so a caller reading a data stream can drain it and still reply.
type chunkWriter struct {
	f       *os.File
	out     *chunkOut
	block   []byte
	sha     hash.Hash
	n       int64
	err     error
	started int64 // file bytes whose writeback to disk has been started
}

// writebackEvery is how much a chunk upload writes before it asks the
// kernel to start writing it to disk, so that a flush later has little
// left to wait for.
const writebackEvery = 8 << 20

// newChunkWriter writes a chunk file into f (opened for direct I/O when
// direct), hashing the data unless the hash comes from elsewhere (hash
// false: see finish). Call finish or close.
func newChunkWriter(f *os.File, direct bool, pool *outPool, hash bool) *chunkWriter {
	w := &chunkWriter{f: f, out: newChunkOut(f, direct, pool), block: make([]byte, 0, blockSize)}
	if hash {
		w.sha = sha256.New()
	}
	_, w.err = w.out.Write(make([]byte, ChunkHeaderSize))
	return w
}

// close gives back the writer's buffer when finish was not reached.
func (w *chunkWriter) close() { w.out.release() }

// Write buffers p into blocks; it never fails (see err).
func (w *chunkWriter) Write(p []byte) (int, error) {
	total := len(p)
	w.n += int64(total)
	for len(p) > 0 && w.err == nil {
		k := min(blockSize-len(w.block), len(p))
		w.block = append(w.block, p[:k]...)
		p = p[k:]
		if len(w.block) == blockSize {
			w.flushBlock()
		}
	}
	return total, nil
}

func (w *chunkWriter) flushBlock() {
	if len(w.block) == 0 || w.err != nil {
		return
	}
	if w.sha != nil {
		w.sha.Write(w.block)
	}
	var crc [4]byte
	binary.BigEndian.PutUint32(crc[:], crc32.Checksum(w.block, castagnoli))
	if _, err := w.out.Write(w.block); err != nil {
		w.err = err
	} else if _, err := w.out.Write(crc[:]); err != nil {
		w.err = err
	}
	w.block = w.block[:0]
	// Through the page cache, start writing back what has reached the file
	// (direct writes are on the disk already).
	if done := w.out.written(); !w.out.direct && w.err == nil && done-w.started >= writebackEvery {
		startWriteback(w.f, w.started, done-w.started)
		w.started = done
	}
}

// finish writes the last block and the header. It returns the data's
// SHA-256: the one computed, or given when the writer did not hash. The
// file is not fsynced: the caller hands it to the flusher.
func (w *chunkWriter) finish(index int, given [32]byte) ([32]byte, error) {
	sum := given
	w.flushBlock()
	if w.err != nil {
		w.close()
		return sum, w.err
	}
	if err := w.out.finish(); err != nil {
		return sum, err
	}
	if w.sha != nil {
		copy(sum[:], w.sha.Sum(nil))
	}
	hdr := EncodeChunkHeader(ChunkHeader{Index: index, Size: w.n, SHA256: sum})
	if _, err := w.f.WriteAt(hdr, 0); err != nil {
		return sum, err
	}
	return sum, nil
}

// chunkFile is an open chunk file with its checked header.
type chunkFile struct {
	f   *os.File
	hdr ChunkHeader
}

// readChunkHeader reads and checks the header of f and the file's length.
func readChunkHeader(f *os.File) (ChunkHeader, error) {
	b := make([]byte, ChunkHeaderSize)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, ChunkHeaderSize), b); err != nil {
		return ChunkHeader{}, fmt.Errorf("%w: short header", errCorrupt)
	}
	h, err := DecodeChunkHeader(b)
	if err != nil {
		return h, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return h, err
	}
	if want := chunkFileSize(h.Size); fi.Size() != want {
		return h, fmt.Errorf("%w: file is %d bytes, header says %d", errCorrupt, fi.Size(), want)
	}
	return h, nil
}

// blocks returns the number of blocks in the chunk.
func (c *chunkFile) blocks() int64 { return (c.hdr.Size + blockSize - 1) / blockSize }

// readBlock reads block i into buf (at least blockSize+4 bytes) and checks
// its CRC. It returns the block's data.
func (c *chunkFile) readBlock(i int64, buf []byte) ([]byte, error) {
	start := i * blockSize
	n := min(int64(blockSize), c.hdr.Size-start)
	off := ChunkHeaderSize + i*(blockSize+4)
	b := buf[:n+4]
	if _, err := c.f.ReadAt(b, off); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: block %d truncated", errCorrupt, i)
		}
		return nil, err
	}
	want := binary.BigEndian.Uint32(b[n:])
	if crc32.Checksum(b[:n], castagnoli) != want {
		return nil, fmt.Errorf("%w: CRC mismatch in block %d", errCorrupt, i)
	}
	return b[:n], nil
}

// verify reads the whole chunk, checking every block's CRC and the SHA-256.
// pace, when not nil, is called after each block with its size (for the
// scrub's rate limit) and may return an error to stop.
func (c *chunkFile) verify(pace func(n int) error) error {
	buf := make([]byte, blockSize+4)
	h := sha256.New()
	for i := int64(0); i < c.blocks(); i++ {
		b, err := c.readBlock(i, buf)
		if err != nil {
			return err
		}
		h.Write(b)
		if pace != nil {
			if err := pace(len(b)); err != nil {
				return err
			}
		}
	}
	if [32]byte(h.Sum(nil)) != c.hdr.SHA256 {
		return fmt.Errorf("%w: SHA-256 mismatch", errCorrupt)
	}
	return nil
}
