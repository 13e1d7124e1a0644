package wire

import (
	"crypto/tls"
	"net"
	"sync"
)

// batchSize is how many bytes of TLS records go to the kernel per read or
// write at most, once the connection has grown (after login).
const batchSize = 256 << 10

// batchConn sits between a TLS connection and its socket and batches the
// socket calls: crypto/tls writes every record (at most 16 KiB) with a write
// of its own and reads the socket a record at a time, which makes a 1 GiB
// transfer 65,536 system calls each way. Reads come from a buffer; writes made
// inside one tlsConn.Write are gathered and sent together when it returns (or
// when batchSize has gathered).
//
// A new batchConn has no buffers: a connection that has not logged in is
// read a record at a time into crypto/tls's own buffer, and its few writes
// gather only what they need. grow gives it the batch buffers once the
// peer has logged in, so that connections nobody authenticated on cost no
// more than a few KiB each (docs/security.md).
type batchConn struct {
	net.Conn
	rbuf []byte // read from the socket; rbuf[r:w] not yet taken (reader's goroutine only)
	r, w int

	mu      sync.Mutex
	holding bool   // inside tlsConn.Write: gather
	wbuf    []byte // gathered records
}

func newBatchConn(nc net.Conn) *batchConn { return &batchConn{Conn: nc} }

func (b *batchConn) Read(p []byte) (int, error) {
	if b.r == b.w {
		if len(p) >= len(b.rbuf) {
			return b.Conn.Read(p)
		}
		n, err := b.Conn.Read(b.rbuf)
		b.r, b.w = 0, n
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, b.rbuf[b.r:b.w])
	b.r += n
	return n, nil
}

// grow gives the connection its batch buffers, keeping what was read and
// not yet taken. It must not run concurrently with Read.
func (b *batchConn) grow() {
	if len(b.rbuf) < batchSize {
		rbuf := make([]byte, batchSize)
		b.w = copy(rbuf, b.rbuf[b.r:b.w])
		b.rbuf, b.r = rbuf, 0
	}
	b.mu.Lock()
	if cap(b.wbuf) < batchSize {
		b.wbuf = append(make([]byte, 0, batchSize+20<<10), b.wbuf...)
	}
	b.mu.Unlock()
}

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.holding {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		return b.Conn.Write(p)
	}
	b.wbuf = append(b.wbuf, p...)
	if len(b.wbuf) >= batchSize {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (b *batchConn) flushLocked() error {
	if len(b.wbuf) == 0 {
		return nil
	}
	_, err := b.Conn.Write(b.wbuf)
	b.wbuf = b.wbuf[:0]
	return err
}

func (b *batchConn) hold() {
	b.mu.Lock()
	b.holding = true
	b.mu.Unlock()
}

// release ends gathering and sends what was gathered.
func (b *batchConn) release() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.holding = false
	return b.flushLocked()
}

// tlsConn is a TLS connection over a batchConn.
type tlsConn struct {
	*tls.Conn
	raw *batchConn
}

func (t *tlsConn) Write(p []byte) (int, error) {
	t.raw.hold()
	n, err := t.Conn.Write(p)
	if ferr := t.raw.release(); err == nil && ferr != nil {
		return 0, ferr // the records did not reach the socket
	}
	return n, err
}

func newTLSClient(nc net.Conn, cfg *tls.Config) *tlsConn {
	raw := newBatchConn(nc)
	return &tlsConn{Conn: tls.Client(raw, cfg), raw: raw}
}

// batchListener accepts TLS connections over batchConns.
type batchListener struct {
	net.Listener
	cfg *tls.Config
}

func (l *batchListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	raw := newBatchConn(nc)
	return &tlsConn{Conn: tls.Server(raw, l.cfg), raw: raw}, nil
}
