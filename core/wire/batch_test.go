package wire

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
)

// countConn counts the writes that reach the socket.
type countConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestBatchConnTLS sends 4 MiB over TLS through a batchConn both ways: the
// bytes arrive whole and the records go out in batches, not one write each.
func TestBatchConnTLS(t *testing.T) {
	cert, err := LoadOrCreateCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := Listen("127.0.0.1:0", ServerTLS(cert))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := make([]byte, 4<<20)
	rand.Read(data)
	echoed := make(chan error, 1)
	go func() {
		sc, err := ln.Accept()
		if err != nil {
			echoed <- err
			return
		}
		defer sc.Close()
		buf := make([]byte, len(data))
		if _, err := io.ReadFull(sc, buf); err != nil {
			echoed <- err
			return
		}
		_, err = sc.Write(buf)
		echoed <- err
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cc := &countConn{Conn: raw}
	tc := newTLSClient(cc, ClientTLS("DFS1", ln.Addr().String(), ""))
	defer tc.Close()
	if err := tc.HandshakeContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := cc.writes.Load()
	if n, err := tc.Write(data); err != nil || n != len(data) {
		t.Fatalf("write: %d %v", n, err)
	}
	// 4 MiB is 256 records of 16 KiB; batched they take about 16 writes.
	if w := cc.writes.Load() - before; w > int64(4*len(data)/batchSize) {
		t.Fatalf("4 MiB took %d socket writes", w)
	}
	got := make([]byte, len(data))
	if _, err := io.ReadFull(tc, got); err != nil {
		t.Fatal(err)
	}
	if err := <-echoed; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("echoed bytes differ")
	}
}

// TestGrowAfterLogin: a connection starts with small buffers (nothing of
// the 256 KiB batches), and Grow, after login, keeps the frames the peer
// already sent behind the first one, over TLS and over plaintext.
func TestGrowAfterLogin(t *testing.T) {
	cert, err := LoadOrCreateCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []*tls.Config{ServerTLS(cert), nil} {
		ln, err := Listen("127.0.0.1:0", cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var ccfg *tls.Config
		if cfg != nil {
			ccfg = ClientTLS("DFS1", ln.Addr().String(), "")
		}
		sent := make(chan error, 1)
		go func() {
			nc, err := Dial(t.Context(), ln.Addr().String(), ccfg)
			if err != nil {
				sent <- err
				return
			}
			defer nc.Close()
			// AUTH and two requests behind it in one write, as a
			// pipelining peer sends them.
			var b bytes.Buffer
			WriteFrame(&b, TypeAuth, StatusOK, []byte(`{"user":"alice"}`))
			WriteFrame(&b, TypeInfo, StatusOK, []byte(`{}`))
			WriteFrame(&b, TypeList, StatusOK, bytes.Repeat([]byte("x"), 4<<10))
			if _, err := nc.Write(b.Bytes()); err != nil {
				sent <- err
				return
			}
			_, err = io.Copy(io.Discard, nc) // until the server closes
			sent <- err
		}()
		sc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		c := NewConn(sc)
		if h, _, err := c.ReadRequest(); err != nil || h.Type != TypeAuth {
			t.Fatalf("tls=%v: first frame %v %v", cfg != nil, h.Type, err)
		}
		if c.br.Size() > preAuthBuffer || c.bw.Size() > preAuthBuffer {
			t.Errorf("tls=%v: buffers before login: %d read, %d write", cfg != nil, c.br.Size(), c.bw.Size())
		}
		if tc, ok := sc.(*tlsConn); ok && (len(tc.raw.rbuf) > 0 || cap(tc.raw.wbuf) > 0) {
			t.Errorf("TLS batches before login: %d read, %d write", len(tc.raw.rbuf), cap(tc.raw.wbuf))
		}
		if c.Buffered() == 0 {
			t.Fatalf("tls=%v: the frames behind AUTH were not read ahead; the test proves nothing", cfg != nil)
		}
		if err := c.Grow(); err != nil {
			t.Fatal(err)
		}
		if tc, ok := sc.(*tlsConn); ok && len(tc.raw.rbuf) < batchSize {
			t.Errorf("TLS read batch after Grow: %d", len(tc.raw.rbuf))
		}
		for _, want := range []Type{TypeInfo, TypeList} {
			if h, body, err := c.ReadRequest(); err != nil || h.Type != want {
				t.Fatalf("tls=%v: after Grow got %v (%d bytes) %v, want %v", cfg != nil, h.Type, len(body), err, want)
			}
		}
		sc.Close()
		if err := <-sent; err != nil && !errors.Is(err, net.ErrClosed) {
			t.Logf("client: %v", err)
		}
	}
}
