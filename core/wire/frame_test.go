package wire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	bodies := [][]byte{nil, []byte("x"), bytes.Repeat([]byte{0, 0xff}, 5000)}
	for _, b := range bodies {
		if err := WriteFrame(&buf, TypeData, StatusOK, b); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range bodies {
		h, got, err := ReadFrame(&buf, MaxDataFrame, nil)
		if err != nil || h.Type != TypeData || !bytes.Equal(got, want) {
			t.Fatalf("read frame: %v %v (%d bytes)", h, err, len(got))
		}
	}
}

func TestDecodeHeaderRefuses(t *testing.T) {
	enc := func(v, typ, st, res byte, n uint32) []byte {
		b := make([]byte, HeaderSize)
		EncodeHeader(b, Header{Type: Type(typ), Status: Status(st), Len: n})
		b[0], b[3] = v, res
		return b
	}
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"version", enc(9, 1, 0, 0, 1), ErrVersion},
		{"type", enc(ProtocolVersion, 99, 0, 0, 1), ErrType},
		{"huge", enc(ProtocolVersion, 1, 0, 0, 1<<31), ErrTooLarge},
		{"just over", enc(ProtocolVersion, 1, 0, 0, MaxPreAuthFrame+1), ErrTooLarge},
		{"version 1", enc(1, 1, 0, 0, 1), ErrVersion},
	}
	for _, c := range cases {
		if _, err := DecodeHeader(c.b, MaxPreAuthFrame); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := DecodeHeader(enc(ProtocolVersion, 1, 0, 7, 1), MaxPreAuthFrame); err == nil {
		t.Errorf("reserved byte accepted")
	}
	if _, _, err := ReadFrame(bytes.NewReader(enc(ProtocolVersion, 1, 0, 0, 10)[:5]), 100, nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated header: %v", err)
	}
	if _, _, err := ReadFrame(bytes.NewReader(append(enc(ProtocolVersion, 1, 0, 0, 10), 1, 2)), 100, nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated body: %v", err)
	}
}

func TestStreamAndErrors(t *testing.T) {
	a, b := net.Pipe()
	ca, cb := NewConn(a), NewConn(b)
	data := bytes.Repeat([]byte("0123456789"), 300_000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ca.SendStream(bytes.NewReader(data), make([]byte, 64<<10))
		ca.SendError(TypeGetChunk, StatusCorrupt, "bad block 3")
	}()
	var got bytes.Buffer
	n, err := cb.RecvStream(&got, int64(len(data)))
	if err != nil || n != int64(len(data)) || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("stream: %d %v", n, err)
	}
	_, err = cb.RecvStream(io.Discard, 100)
	var re *RemoteError
	if !errors.As(err, &re) || re.Status != StatusCorrupt || !strings.Contains(re.Error(), "bad block 3") {
		t.Fatalf("error inside a stream: %v", err)
	}
	<-done
	go ca.SendStream(bytes.NewReader(data[:1000]), make([]byte, 100))
	if _, err := cb.RecvStream(io.Discard, 999); !errors.Is(err, ErrStreamTooLong) {
		t.Fatalf("over-long stream: %v", err)
	}
	a.Close()
	b.Close()
}

func TestRecvStreamInto(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ca, cb := NewConn(a), NewConn(b)
	data := bytes.Repeat([]byte("abcdefghij"), 100_000)
	// send streams d and returns a wait for the sender to finish: the next
	// send must not share the writer with it.
	send := func(d []byte, buf int) func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			ca.SendStream(bytes.NewReader(d), make([]byte, buf))
		}()
		return func() { <-done }
	}
	// Exact fit, a larger destination, an empty stream.
	for _, c := range []struct{ n, dst, buf int }{{len(data), len(data), 64 << 10}, {1000, 5000, 7}, {0, 10, 1}} {
		wait := send(data[:c.n], c.buf)
		p := make([]byte, c.dst)
		n, err := cb.RecvStreamInto(p)
		wait()
		if err != nil || n != c.n || !bytes.Equal(p[:n], data[:c.n]) {
			t.Fatalf("stream of %d into %d: %d %v", c.n, c.dst, n, err)
		}
	}
	send(data[:1000], 100)
	if _, err := cb.RecvStreamInto(make([]byte, 999)); !errors.Is(err, ErrStreamTooLong) {
		t.Fatalf("over-long stream: %v", err)
	}
	// The connection is out of step after that: use a fresh pair.
	a2, b2 := net.Pipe()
	defer a2.Close()
	defer b2.Close()
	ca2, cb2 := NewConn(a2), NewConn(b2)
	go func() {
		WriteFrame(ca2.bw, TypeData, StatusOK, data[:10])
		ca2.SendError(TypeGetChunk, StatusCorrupt, "bad block 3")
	}()
	p := make([]byte, 100)
	n, err := cb2.RecvStreamInto(p)
	var re *RemoteError
	if n != 10 || !errors.As(err, &re) || re.Status != StatusCorrupt {
		t.Fatalf("error inside a stream: %d %v", n, err)
	}
}

// FuzzReadFrame feeds arbitrary bytes to the frame reader and the message
// decoders: they must return errors, never panic or allocate past the caps.
func FuzzReadFrame(f *testing.F) {
	var buf bytes.Buffer
	WriteFrame(&buf, TypeAuth, StatusOK, []byte(`{"user":"alice","password":"x"}`))
	f.Add(buf.Bytes())
	f.Add([]byte{ProtocolVersion, 5, 0, 0, 0, 0, 0, 2, '{', '}'})
	f.Add([]byte{ProtocolVersion, 6, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		for {
			h, body, err := ReadFrame(r, MaxPreAuthFrame, nil)
			if err != nil {
				return
			}
			if h.Len > MaxPreAuthFrame {
				t.Fatalf("frame of %d bytes accepted", h.Len)
			}
			var m Meta
			_ = Decode(h, body, &m)
			_, _ = DecodeListResp(body)
			_, _ = DecodeLookupResp(body)
		}
	})
}

// TestCaps checks the caps by frame type: only the frames that carry whole
// metas get more than MaxControlFrame, each on the side that reads them,
// and nothing gets more than MaxPreAuthFrame before login.
func TestCaps(t *testing.T) {
	hdr := func(typ Type, n uint32) []byte {
		b := make([]byte, HeaderSize)
		EncodeHeader(b, Header{Type: typ, Len: n})
		return b
	}
	for _, c := range []struct {
		caps Caps
		typ  Type
		max  uint32
	}{
		{PreAuthCaps, TypeAuth, MaxPreAuthFrame},
		{PreAuthCaps, TypeCommit, MaxPreAuthFrame},
		{NodeCaps, TypeCommit, MaxMetaFrame},
		{NodeCaps, TypeUpdate, MaxControlFrame},
		{NodeCaps, TypeList, MaxControlFrame},
		{NodeCaps, TypePutChunk, MaxControlFrame},
		{ClientCaps, TypeList, MaxListFrame},
		{ClientCaps, TypeLookup, MaxListFrame},
		{ClientCaps, TypeCommit, MaxControlFrame},
		{ClientCaps, TypeInfo, MaxControlFrame},
	} {
		if _, err := decodeHeader(hdr(c.typ, c.max), c.caps); err != nil {
			t.Errorf("%s frame of %d: %v", c.typ, c.max, err)
		}
		if _, err := decodeHeader(hdr(c.typ, c.max+1), c.caps); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s frame of %d: %v, want ErrTooLarge", c.typ, c.max+1, err)
		}
	}
}
