package store

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

// BlockSize is the size of a chunk file's blocks: the data follows the
// header in blocks of BlockSize bytes, each followed by its CRC-32C
// (big-endian); the last block may be short.
const BlockSize = 64 << 10

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt marks a chunk file whose header, length or checksums are wrong.
var ErrCorrupt = errors.New("chunk file is corrupt")

// chunkFileSize is the length on disk of a chunk file holding size bytes.
func chunkFileSize(size int64) int64 {
	blocks := (size + BlockSize - 1) / BlockSize
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
	w := &chunkWriter{f: f, out: newChunkOut(f, direct, pool), block: make([]byte, 0, BlockSize)}
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
		k := min(BlockSize-len(w.block), len(p))
		w.block = append(w.block, p[:k]...)
		p = p[k:]
		if len(w.block) == BlockSize {
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

// ChunkFile is an open chunk file with its checked header.
type ChunkFile struct {
	f   *os.File
	hdr ChunkHeader
}

// Header is the chunk file's checked header.
func (c *ChunkFile) Header() ChunkHeader { return c.hdr }

// Stat describes the open file, so that a later step can tell whether the
// name still holds it.
func (c *ChunkFile) Stat() (os.FileInfo, error) { return c.f.Stat() }

// Close closes the file.
func (c *ChunkFile) Close() error { return c.f.Close() }

// readChunkHeader reads and checks the header of f and the file's length.
func readChunkHeader(f *os.File) (ChunkHeader, error) {
	b := make([]byte, ChunkHeaderSize)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, ChunkHeaderSize), b); err != nil {
		return ChunkHeader{}, fmt.Errorf("%w: short header", ErrCorrupt)
	}
	h, err := DecodeChunkHeader(b)
	if err != nil {
		return h, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return h, err
	}
	if want := chunkFileSize(h.Size); fi.Size() != want {
		return h, fmt.Errorf("%w: file is %d bytes, header says %d", ErrCorrupt, fi.Size(), want)
	}
	return h, nil
}

// blocks returns the number of blocks in the chunk.
func (c *ChunkFile) blocks() int64 { return (c.hdr.Size + BlockSize - 1) / BlockSize }

// readBlock reads block i into buf (at least BlockSize+4 bytes) and checks
// its CRC. It returns the block's data.
func (c *ChunkFile) readBlock(i int64, buf []byte) ([]byte, error) {
	start := i * BlockSize
	n := min(int64(BlockSize), c.hdr.Size-start)
	off := ChunkHeaderSize + i*(BlockSize+4)
	b := buf[:n+4]
	if _, err := c.f.ReadAt(b, off); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: block %d truncated", ErrCorrupt, i)
		}
		return nil, err
	}
	want := binary.BigEndian.Uint32(b[n:])
	if crc32.Checksum(b[:n], castagnoli) != want {
		return nil, fmt.Errorf("%w: CRC mismatch in block %d", ErrCorrupt, i)
	}
	return b[:n], nil
}

// verify reads the whole chunk, checking every block's CRC and the SHA-256.
// pace, when not nil, is called after each block with its size (for the
// scrub's rate limit) and may return an error to stop.
func (c *ChunkFile) verify(pace func(n int) error) error {
	buf := make([]byte, BlockSize+4)
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
		return fmt.Errorf("%w: SHA-256 mismatch", ErrCorrupt)
	}
	return nil
}

// RangeReader reads a byte range of a chunk file block by block, checking
// each block's CRC and, when the range is the whole chunk, the SHA-256 at
// its end.
type RangeReader struct {
	cf       *ChunkFile
	off, end int64
	buf      []byte
	pending  []byte // checked data not yet returned
	sha      hash.Hash
	err      error // the read error that ended the stream
}

// NewRangeReader reads bytes [off, end) of the chunk.
func (c *ChunkFile) NewRangeReader(off, end int64) *RangeReader {
	r := &RangeReader{cf: c, off: off, end: end, buf: make([]byte, BlockSize+4)}
	if off == 0 && end == c.hdr.Size {
		r.sha = sha256.New()
	}
	return r
}

// Err returns the read error that ended the stream early (ErrCorrupt for
// bad data), nil if none did.
func (r *RangeReader) Err() error { return r.err }

// Read fills p with checked data; a bad block or SHA-256 ends the stream
// with an ErrCorrupt error.
func (r *RangeReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.pending) == 0 {
			if r.off >= r.end {
				break
			}
			i := r.off / BlockSize
			b, err := r.cf.readBlock(i, r.buf)
			if err != nil {
				r.err = err
				return n, err
			}
			if r.sha != nil {
				r.sha.Write(b)
			}
			start := i * BlockSize
			r.pending = b[r.off-start : min(r.end-start, int64(len(b)))]
			r.off = start + int64(len(b))
		}
		k := copy(p[n:], r.pending)
		r.pending = r.pending[k:]
		n += k
	}
	if n == 0 {
		if r.sha != nil && [32]byte(r.sha.Sum(nil)) != r.cf.hdr.SHA256 {
			r.err = fmt.Errorf("%w: SHA-256 mismatch", ErrCorrupt)
			return 0, r.err
		}
		return 0, io.EOF
	}
	return n, nil
}

// ChunkFileSize is the length on disk of a chunk file holding size bytes
// (docs/format.md, Chunk file).
func ChunkFileSize(size int64) int64 { return chunkFileSize(size) }
