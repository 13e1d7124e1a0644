package wire

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// RemoteError is a non-OK reply from the peer.
type RemoteError struct {
	Status  Status
	Message string
}

func (e *RemoteError) Error() string {
	if e.Message == "" {
		return e.Status.String()
	}
	return e.Status.String() + ": " + e.Message
}

// Conn is a framed connection. It is not safe for concurrent use (Interrupt
// excepted): one request and its reply at a time.
type Conn struct {
	nc      net.Conn
	br      *bufio.Reader
	bw      *bufio.Writer
	caps    Caps // caps on control frames read; set before reading (SetCaps)
	buf     []byte
	copyBuf []byte // reused by RecvStream

	idle        time.Duration // see SetIdle
	interrupted atomic.Bool   // see Interrupt

	in, out  atomic.Int64  // bytes read and written (stats.go)
	takenIn  atomic.Int64  // in when Take last ran
	takenOut atomic.Int64  // out when Take last ran
	lastSent atomic.Uint32 // Type of the last frame written (stats.go)
}

// Buffer sizes of a Conn. Before login a connection reads and writes a few
// small frames (AUTH and its reply), and a node may hold up to -max-conns
// of them for strangers: they get small buffers, and Grow gives the large
// ones once the login succeeded (docs/security.md, Limits).
const (
	preAuthBuffer = 1 << 10  // each way, before Grow
	connBuffer    = 64 << 10 // each way, after Grow
)

// NewConn wraps nc with the small buffers of a connection that has not
// logged in. Control frames read are capped at MaxPreAuthFrame until
// SetCaps raises the caps; Grow raises the buffers (both after
// authentication).
func NewConn(nc net.Conn) *Conn {
	c := &Conn{nc: nc, caps: PreAuthCaps}
	c.br, c.bw = bufio.NewReaderSize(countReader{c}, preAuthBuffer), bufio.NewWriterSize(countWriter{c}, preAuthBuffer)
	return c
}

// Grow gives the connection the buffers of an authenticated one: 64 KiB
// each way, and under TLS the batches of records (256 KiB each way) that
// keep system calls few in long transfers. What was read and not yet taken
// is kept; frames written and not flushed are sent first. It must not run
// concurrently with a read or write (Interrupt excepted).
func (c *Conn) Grow() error {
	if c.bw.Size() < connBuffer {
		if err := c.bw.Flush(); err != nil {
			return err
		}
		c.bw = bufio.NewWriterSize(countWriter{c}, connBuffer)
	}
	if c.br.Size() < connBuffer {
		var src io.Reader = countReader{c}
		if n := c.br.Buffered(); n > 0 {
			// The peer sent its next frames already (it pipelines):
			// they are read before the socket.
			ahead, _ := c.br.Peek(n)
			src = io.MultiReader(bytes.NewReader(bytes.Clone(ahead)), countReader{c})
		}
		c.br = bufio.NewReaderSize(src, connBuffer)
	}
	if t, ok := c.nc.(*tlsConn); ok {
		t.raw.grow()
	}
	return nil
}

// SetCaps sets the caps on control frames read from now on (NodeCaps,
// ClientCaps). Like a read, it must not run concurrently with one.
func (c *Conn) SetCaps(caps Caps) { c.caps = caps }

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// SetDeadline sets the read and write deadline (zero clears it). After
// Interrupt it leaves the connection interrupted.
func (c *Conn) SetDeadline(t time.Time) error {
	err := c.nc.SetDeadline(t)
	if c.interrupted.Load() {
		// Interrupt may have run since the check before: its deadline
		// in the past must be the last one set.
		return c.nc.SetDeadline(interruptedAt)
	}
	return err
}

// interruptedAt is the deadline of an interrupted connection: long past.
var interruptedAt = time.Unix(1, 0)

// Interrupt makes the connection's reads and writes, those blocked now and
// any later ones, fail at once with a timeout, for good: neither
// SetDeadline nor a data stream (SetIdle) moves the deadline again. What is
// left to do with the connection is Close it. Interrupt may be called from
// any goroutine (a cancelled context's AfterFunc).
func (c *Conn) Interrupt() {
	c.interrupted.Store(true)
	_ = c.nc.SetDeadline(interruptedAt)
}

// SetIdle sets how long the peer may leave a data stream silent. While it is
// positive, SendStream, WriteData, RecvStream and RecvStreamInto move the
// deadline idle ahead before each piece of data they write or read, so that
// a long transfer fails only when the peer stops taking or sending data,
// never for its length. Zero, the default, leaves the deadline as it is.
func (c *Conn) SetIdle(d time.Duration) { c.idle = d }

// renew moves the deadline for the next piece of a data stream (SetIdle).
func (c *Conn) renew() {
	if c.idle > 0 {
		_ = c.SetDeadline(time.Now().Add(c.idle))
	}
}

// stream is what a data stream is read from: the buffered connection, with
// the deadline renewed before each read while SetIdle is on.
func (c *Conn) stream() io.Reader {
	if c.idle > 0 {
		return idleReader{c}
	}
	return c.br
}

type idleReader struct{ c *Conn }

func (r idleReader) Read(p []byte) (int, error) {
	r.c.renew()
	return r.c.br.Read(p)
}

// Buffered returns how many bytes of the peer's next frames are already
// read and waiting: a server that sees the next request there can leave
// its reply unflushed, to go out with the next one (pipelining).
func (c *Conn) Buffered() int { return c.br.Buffered() }

// Flush sends buffered frames.
func (c *Conn) Flush() error { return c.bw.Flush() }

// Send writes a JSON message frame and flushes it.
func (c *Conn) Send(t Type, st Status, v any) error {
	if err := c.Write(t, st, v); err != nil {
		return err
	}
	return c.bw.Flush()
}

// Write writes a JSON message frame without flushing.
func (c *Conn) Write(t Type, st Status, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", t, err)
	}
	c.lastSent.Store(uint32(t))
	return WriteFrame(c.bw, t, st, body)
}

// SendError writes an error reply of type t and flushes it.
func (c *Conn) SendError(t Type, st Status, msg string) error {
	return c.Send(t, st, ErrorMsg{Message: msg})
}

// ReadRequest reads the next control frame and returns its header and body.
// The body is valid until the next read.
func (c *Conn) ReadRequest() (Header, []byte, error) {
	h, body, err := readFrame(c.br, c.caps, c.buf)
	if cap(body) > cap(c.buf) && cap(body) <= 64<<10 {
		c.buf = body[:0]
	}
	return h, body, err
}

// SendBody writes a frame with a body that is not JSON (the binary LIST
// and LOOKUP replies) and flushes it.
func (c *Conn) SendBody(t Type, body []byte) error {
	if err := c.WriteBody(t, body); err != nil {
		return err
	}
	return c.bw.Flush()
}

// WriteBody writes a frame with a body that is not JSON (a binary COMMIT
// request) without flushing.
func (c *Conn) WriteBody(t Type, body []byte) error {
	c.lastSent.Store(uint32(t))
	return WriteFrame(c.bw, t, StatusOK, body)
}

// RecvBody reads a reply of type want and returns its body, valid until
// the next read. A non-OK status becomes a *RemoteError.
func (c *Conn) RecvBody(want Type) ([]byte, error) {
	h, body, err := c.ReadRequest()
	if err != nil {
		return nil, err
	}
	if h.Type != want {
		return nil, fmt.Errorf("wire: got %s frame, want %s", h.Type, want)
	}
	if h.Status != StatusOK {
		return nil, Decode(h, body, nil)
	}
	return body, nil
}

// Recv reads a reply of type want into v. A non-OK status becomes a
// *RemoteError; a frame of another type is a protocol error.
func (c *Conn) Recv(want Type, v any) error {
	h, body, err := c.ReadRequest()
	if err != nil {
		return err
	}
	if h.Type != want {
		return fmt.Errorf("wire: got %s frame, want %s", h.Type, want)
	}
	return Decode(h, body, v)
}

// Decode turns a frame body into v, or into a *RemoteError when the status
// is not OK.
func Decode(h Header, body []byte, v any) error {
	if h.Status != StatusOK {
		var em ErrorMsg
		_ = json.Unmarshal(body, &em)
		return &RemoteError{Status: h.Status, Message: em.Message}
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("wire: bad %s body: %w", h.Type, err)
	}
	return nil
}

// SendStream copies r to the peer as data frames of at most MaxDataFrame
// bytes, then the empty end frame, and flushes. buf (at least 1 byte) is used
// for reading; it returns the bytes sent.
func (c *Conn) SendStream(r io.Reader, buf []byte) (int64, error) {
	if len(buf) > MaxDataFrame {
		buf = buf[:MaxDataFrame]
	}
	var n int64
	for {
		k, err := r.Read(buf)
		if k > 0 {
			if werr := c.WriteData(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
	}
	if err := c.WriteEnd(); err != nil {
		return n, err
	}
	return n, c.bw.Flush()
}

// WriteData writes p as data frames (of at most MaxDataFrame bytes; none
// for an empty p) without flushing: a piece of a data stream.
func (c *Conn) WriteData(p []byte) error {
	for len(p) > 0 {
		n := min(len(p), MaxDataFrame)
		c.renew()
		if err := WriteFrame(c.bw, TypeData, StatusOK, p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// WriteEnd writes the empty data frame that ends a data stream, without
// flushing.
func (c *Conn) WriteEnd() error { return WriteFrame(c.bw, TypeData, StatusOK, nil) }

// ErrStreamTooLong is returned by RecvStream when the peer sends more than
// the declared size.
var ErrStreamTooLong = errors.New("wire: data stream longer than declared")

// RecvStream reads data frames into w until the empty end frame, accepting at
// most limit bytes. A non-data frame in the stream is decoded as the peer's
// error (for example StatusCorrupt from a node that found a bad block).
func (c *Conn) RecvStream(w io.Writer, limit int64) (int64, error) {
	var n int64
	for {
		k, err := c.nextDataFrame()
		if err != nil || k == 0 {
			return n, err
		}
		if n+int64(k) > limit {
			return n, ErrStreamTooLong
		}
		if c.copyBuf == nil {
			c.copyBuf = make([]byte, 64<<10)
		}
		m, err := io.CopyBuffer(w, io.LimitReader(c.stream(), int64(k)), c.copyBuf)
		if err == nil && m < int64(k) {
			err = io.ErrUnexpectedEOF
		}
		n += m
		if err != nil {
			return n, unexpected(err)
		}
	}
}

// RecvStreamInto is RecvStream into a byte slice: the frames' bodies are
// read straight into p (no intermediate buffer), at most len(p) bytes.
func (c *Conn) RecvStreamInto(p []byte) (int, error) {
	n := 0
	for {
		k, err := c.nextDataFrame()
		if err != nil || k == 0 {
			return n, err
		}
		if int(k) > len(p)-n {
			return n, ErrStreamTooLong
		}
		m, err := io.ReadFull(c.stream(), p[n:n+int(k)])
		n += m
		if err != nil {
			return n, unexpected(err)
		}
	}
}

// nextDataFrame reads the next frame header of a data stream and returns its
// body length, 0 for the end frame. A non-data frame is read whole and
// returned as the peer's error.
func (c *Conn) nextDataFrame() (uint32, error) {
	var hb [HeaderSize]byte
	if _, err := io.ReadFull(c.stream(), hb[:]); err != nil {
		return 0, unexpected(err)
	}
	h, err := DecodeHeader(hb[:], MaxDataFrame)
	if err != nil {
		return 0, err
	}
	if h.Type == TypeData {
		return h.Len, nil
	}
	if h.Len > c.caps(h.Type) {
		return 0, fmt.Errorf("%w: %s frame in a data stream", ErrTooLarge, h.Type)
	}
	body := make([]byte, h.Len)
	if _, err := io.ReadFull(c.br, body); err != nil {
		return 0, unexpected(err)
	}
	if err := Decode(h, body, nil); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("wire: %s frame inside a data stream", h.Type)
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
