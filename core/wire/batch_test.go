package wire

import (
	"bytes"
	"context"
	"crypto/rand"
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
	tc := newTLSClient(cc, ClientTLS("DFS1", ln.Addr().String(), "", nil))
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
