package mount

import (
	"crypto/md5"
	"hash"
	"sync"
)

// contentHash computes a spool's MD5 (which places the file's chunks) while
// the file is written from its start in order, as cp, dd and tar do, on a
// goroutine of its own: storing the file then needs no second read of it,
// and the hashing runs beside the writer instead of after it. Any other
// pattern (a write elsewhere, a truncate, old content fetched) turns it off
// and Put hashes the spool itself. Its methods are called under the
// owning File's mu.
type contentHash struct {
	next int64 // bytes handed to the hasher; -1 once off
	feed chan hashItem
	quit sync.Once
}

type hashItem struct {
	buf   *[]byte
	n     int
	reply chan []byte // set for a request of the sum so far
}

// hashDepth is how many writes may wait for the hasher.
const hashDepth = 8

var hashBufs = sync.Pool{New: func() any { b := make([]byte, maxWrite); return &b }}

func newContentHash() *contentHash {
	c := &contentHash{feed: make(chan hashItem, hashDepth)}
	go c.run(md5.New())
	return c
}

func (c *contentHash) run(h hash.Hash) {
	for it := range c.feed {
		if it.reply != nil {
			it.reply <- h.Sum(nil)
			continue
		}
		h.Write((*it.buf)[:it.n])
		hashBufs.Put(it.buf)
	}
}

// wrote hands p, just written at off, to the hasher.
func (c *contentHash) wrote(p []byte, off int64) {
	if c.next < 0 {
		return
	}
	if off != c.next || len(p) > maxWrite {
		c.off()
		return
	}
	buf := hashBufs.Get().(*[]byte)
	n := copy(*buf, p)
	c.feed <- hashItem{buf: buf, n: n}
	c.next += int64(n)
}

// off stops hashing: the content is no longer a stream from its start.
func (c *contentHash) off() { c.next = -1 }

// sum returns the MD5 of the first size bytes if that is all that was
// written, in order; else nil.
func (c *contentHash) sum(size int64) []byte {
	if c.next != size {
		return nil
	}
	reply := make(chan []byte, 1)
	c.feed <- hashItem{reply: reply}
	return <-reply
}

// close ends the hasher.
func (c *contentHash) close() { c.quit.Do(func() { close(c.feed) }) }
