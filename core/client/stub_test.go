package client

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// memFile is an io.WriterAt over a byte slice.
type memFile []byte

func (m memFile) WriteAt(p []byte, off int64) (int, error) { return copy(m[off:], p), nil }

// firstHolder is the node a read of chunk ch of e asks first.
func firstHolder(e Entry, ch int) int {
	for _, n := range e.Copies[0][ch] {
		if core.NodeChunks(e.Segments[0].X(), n)[0] == ch {
			return n
		}
	}
	return e.Copies[0][ch][0]
}

// TestFetchLeavesStalledHolder: a node that stops in the middle of sending
// a chunk, keeping its connection open, costs a whole-file read about
// twice Config.Stall, not the I/O timeout: the other copy is read instead.
func TestFetchLeavesStalledHolder(t *testing.T) {
	data := randData(t, 1<<20)
	e, chunks := entryOf(t, data)
	stalled := firstHolder(e, 0)
	nodes := chunkServers(t, e, chunks, stalled, func(f *fakeNode, conn *wire.Conn, p []byte) error {
		conn.WriteData(p[:len(p)/2])
		conn.Flush()
		return f.stall()
	})
	c := newFakeClient(t, Config{Stall: 100 * time.Millisecond, IOTimeout: 30 * time.Second}, nodes)
	out := make(memFile, len(data))
	start := time.Now()
	if err := c.newFile(e).Fetch(testCtx(t), out, nil); err != nil {
		t.Fatalf("read with %s stalled mid-chunk: %v", core.NodeName(stalled), err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("read with %s stalled mid-chunk took %v", core.NodeName(stalled), d)
	}
	if !bytes.Equal(out, data) {
		t.Fatal("read with a node stalled mid-chunk: wrong bytes")
	}
}

// TestStreamsFailOnlyOnSilence: a chunk that takes longer than the I/O
// timeout to cross, while the node keeps sending or taking data, arrives;
// a node that stops taking data fails the send after about the I/O
// timeout, not later. One deadline mechanism serves both directions.
func TestStreamsFailOnlyOnSilence(t *testing.T) {
	const ioTimeout = 800 * time.Millisecond

	t.Run("read trickling", func(t *testing.T) {
		data := randData(t, 512<<10)
		e, chunks := entryOf(t, data)
		slow := firstHolder(e, 0)
		e.Copies[0][0] = []int{slow} // the one copy: the read waits as long as data flows
		nodes := chunkServers(t, e, chunks, slow, func(f *fakeNode, conn *wire.Conn, p []byte) error {
			for len(p) > 0 {
				time.Sleep(150 * time.Millisecond)
				k := min(len(p), 16<<10)
				if err := conn.WriteData(p[:k]); err != nil {
					return err
				}
				if err := conn.Flush(); err != nil {
					return err
				}
				p = p[k:]
			}
			return sendAll(conn, nil)
		})
		c := newFakeClient(t, Config{IOTimeout: ioTimeout}, nodes)
		out := make(memFile, len(data))
		start := time.Now()
		if err := c.newFile(e).Fetch(testCtx(t), out, nil); err != nil {
			t.Fatalf("a chunk trickling in for %v with %v of silence allowed: %v", time.Since(start), ioTimeout, err)
		}
		if d := time.Since(start); d < ioTimeout {
			t.Fatalf("the trickle took %v, not longer than the I/O timeout: it tests nothing", d)
		}
		if !bytes.Equal(out, data) {
			t.Fatal("wrong bytes")
		}
	})

	// sendTo sends a 2 MiB chunk to DFS1, which takes it with take.
	sendTo := func(t *testing.T, take func(f *fakeNode, conn *wire.Conn, body []byte) error) error {
		var nodes [core.NumNodes]*fakeNode
		for n := range nodes {
			nodes[n] = newFakeNode(t)
		}
		f := nodes[0]
		f.handlers[wire.TypePutChunk] = func(conn *wire.Conn, body []byte) error { return take(f, conn, body) }
		c := newFakeClient(t, Config{IOTimeout: ioTimeout}, nodes)
		data := randData(t, 2<<20)
		info := wire.ChunkInfo{Size: int64(len(data)), SHA256: sumOf(data)}
		sec := io.NewSectionReader(bytes.NewReader(data), 0, info.Size)
		return c.sendChunkTo(testCtx(t), 0, newUploadID(), core.NewVersion(), 0, sec, info, func(int64) {})
	}

	t.Run("send trickling", func(t *testing.T) {
		start := time.Now()
		err := sendTo(t, func(f *fakeNode, conn *wire.Conn, body []byte) error {
			var got bytes.Buffer
			if _, err := recvChunk(conn, body, slowWriter{&got, 40 * time.Millisecond}); err != nil {
				return err
			}
			return conn.Send(wire.TypePutChunk, wire.StatusOK, wire.PutChunkResp{SHA256: sumOf(got.Bytes())})
		})
		if err != nil {
			t.Fatalf("a node taking a chunk for %v with %v of silence allowed: %v", time.Since(start), ioTimeout, err)
		}
		if d := time.Since(start); d < ioTimeout {
			t.Fatalf("the trickle took %v, not longer than the I/O timeout: it tests nothing", d)
		}
	})

	t.Run("send stalled", func(t *testing.T) {
		start := time.Now()
		err := sendTo(t, func(f *fakeNode, conn *wire.Conn, body []byte) error {
			if _, err := io.ReadFull(conn.NetConn(), make([]byte, 64<<10)); err != nil {
				return err
			}
			return f.stall() // takes no more data
		})
		d := time.Since(start)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a node that stopped taking data: %v, want a timeout", err)
		}
		if d > 5*ioTimeout {
			t.Errorf("a node that stopped taking data failed the send after %v (I/O timeout %v)", d, ioTimeout)
		}
	})
}

// slowWriter takes each write after a pause.
type slowWriter struct {
	w     io.Writer
	pause time.Duration
}

func (s slowWriter) Write(p []byte) (int, error) {
	time.Sleep(s.pause)
	return s.w.Write(p)
}
