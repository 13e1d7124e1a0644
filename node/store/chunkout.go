package store

import (
	"os"
	"sync"
	"unsafe"
)

// chunkOut writes a chunk file's bytes in order from offset 0, in pieces of
// outPiece bytes. When the file was opened for direct I/O (see
// openChunkForWrite) the pieces go from an aligned buffer straight to the
// disk, past the page cache: the node writes every byte it stores once and
// reads it back rarely, and copying two replicas of every upload into the
// page cache cost more CPU than the encryption. The short last piece is
// written through the page cache (direct I/O needs aligned lengths).
type chunkOut struct {
	f      *os.File
	direct bool
	buf    []byte // outPiece bytes, aligned to dioAlign
	mem    *[]byte
	n      int   // bytes waiting in buf
	off    int64 // file offset of buf[0]
	pool   *outPool
}

// outPiece is the size of each write; a multiple of dioAlign.
const outPiece = 1 << 20

// dioAlign is the alignment direct I/O needs of buffers, offsets and
// lengths on every Linux filesystem and disk in use (logical blocks are 512
// or 4096 bytes).
const dioAlign = 4096

// outPool recycles the aligned buffers of chunkOuts.
type outPool struct{ p sync.Pool }

func newOutPool() *outPool {
	op := &outPool{}
	op.p.New = func() any {
		raw := make([]byte, outPiece+dioAlign)
		skip := (dioAlign - int(uintptr(unsafe.Pointer(&raw[0]))%dioAlign)) % dioAlign
		b := raw[skip : skip+outPiece : skip+outPiece]
		return &b
	}
	return op
}

func newChunkOut(f *os.File, direct bool, pool *outPool) *chunkOut {
	mem := pool.p.Get().(*[]byte)
	return &chunkOut{f: f, direct: direct, buf: *mem, mem: mem, pool: pool}
}

// Write buffers p and writes every full piece.
func (o *chunkOut) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		k := copy(o.buf[o.n:], p)
		o.n += k
		p = p[k:]
		if o.n == len(o.buf) {
			if _, err := o.f.WriteAt(o.buf, o.off); err != nil {
				return total - len(p), err
			}
			o.off += int64(o.n)
			o.n = 0
		}
	}
	return total, nil
}

// written is how many bytes have reached the file.
func (o *chunkOut) written() int64 { return o.off }

// finish writes what is left, through the page cache (as later writes to
// the file, the header, must be), and gives the buffer back; the chunkOut
// is unusable after it.
func (o *chunkOut) finish() error {
	defer o.release()
	if o.direct {
		if err := endDirect(o.f); err != nil {
			return err
		}
		o.direct = false
	}
	if o.n == 0 {
		return nil
	}
	_, err := o.f.WriteAt(o.buf[:o.n], o.off)
	o.off += int64(o.n)
	o.n = 0
	return err
}

// release gives the buffer back (also after a failure).
func (o *chunkOut) release() {
	if o.mem != nil {
		o.pool.p.Put(o.mem)
		o.mem, o.buf = nil, nil
	}
}
