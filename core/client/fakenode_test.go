package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/crypt"
	"dfs/core/wire"
)

// fakeNode is a node in memory for tests of the client's side of the
// protocol: it serves connections over net.Pipe (behind nodePool.connect),
// answers AUTH, KEY_GET and KEY_PUT itself (unless the test gave handlers
// for them) and every
// other request with the handler the test gave for its type. A request
// without one closes the connection.
type fakeNode struct {
	handlers map[wire.Type]fakeHandler
	keys     fakeKeys      // the user's wrapped key, for the client's keyring
	quit     chan struct{} // closed when the test ends: stalled handlers give up
}

// fakeHandler answers one request whose JSON body is body, reading what
// follows it (a data stream) from conn. An error closes the connection.
type fakeHandler func(conn *wire.Conn, body []byte) error

func newFakeNode(t *testing.T) *fakeNode {
	f := &fakeNode{handlers: map[wire.Type]fakeHandler{}, quit: make(chan struct{})}
	t.Cleanup(func() { close(f.quit) })
	return f
}

func (f *fakeNode) connect(context.Context) (net.Conn, error) {
	cli, srv := net.Pipe()
	go f.serve(srv)
	return cli, nil
}

func (f *fakeNode) serve(nc net.Conn) {
	defer nc.Close()
	conn := wire.NewConn(nc)
	conn.SetCaps(wire.NodeCaps)
	for {
		h, body, err := conn.ReadRequest()
		if err != nil {
			return
		}
		if h.Type == wire.TypeAuth && f.handlers[wire.TypeAuth] == nil {
			if conn.Send(wire.TypeAuth, wire.StatusOK, wire.AuthResp{Node: "fake"}) != nil {
				return
			}
			continue
		}
		fn := f.handlers[h.Type]
		if fn == nil {
			fn = f.keys.handler(h.Type) // KEY_GET and KEY_PUT, unless the test gave handlers
		}
		if fn == nil || fn(conn, bytes.Clone(body)) != nil {
			return
		}
	}
}

// stall blocks until the test ends, holding the connection open and silent,
// as a hung node does.
func (f *fakeNode) stall() error {
	<-f.quit
	return io.EOF
}

// newFakeClient returns a client of the four fake nodes, over plaintext
// pipes.
func newFakeClient(t *testing.T, cfg Config, nodes [core.NumNodes]*fakeNode) *Client {
	for n := range nodes {
		cfg.Nodes = append(cfg.Nodes, NodeAddr{Name: core.NodeName(n), Addr: "fake"})
	}
	cfg.User, cfg.Plaintext = "alice", true
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for n, f := range nodes {
		c.nodes[n].connect = f.connect
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// recvChunk reads the data stream of a PUT_CHUNK request into memory.
func recvChunk(conn *wire.Conn, body []byte, w io.Writer) (wire.PutChunkReq, error) {
	var req wire.PutChunkReq
	if err := json.Unmarshal(body, &req); err != nil {
		return req, err
	}
	if req.Trailer {
		return req, fmt.Errorf("a trailer over plaintext")
	}
	_, err := conn.RecvStream(w, req.Size)
	return req, err
}

// sumOf is the hex SHA-256 of p.
func sumOf(p []byte) string {
	h := sha256.Sum256(p)
	return hex.EncodeToString(h[:])
}

func randData(t *testing.T, n int) []byte {
	p := make([]byte, n)
	if _, err := rand.Read(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// fakeMaster is the master key of the fake nodes chunkServers makes
// (wrapped for newFakeClient's user, whose password is empty), so that
// what they serve is encrypted with the keys their client loads.
var fakeMaster = sync.OnceValue(crypt.NewMasterKey)

// fakeWrapped is fakeMaster as those nodes hold it.
var fakeWrapped = sync.OnceValue(func() []byte { return crypt.DeriveRoot("alice", "").Wrap("alice", fakeMaster()) })

// entryOf is the entry of data (one segment) stored as version v with
// every chunk on the nodes the placement (x = 0: no MD5) names, for reading
// without a lookup, and its chunks as stored (encrypted with fakeMaster).
func entryOf(t *testing.T, data []byte) (Entry, [core.NumChunks][]byte) {
	e := Entry{Name: "f", Size: int64(len(data)), Version: "v1", Stamp: "v1"}
	seg := wire.Segment{Index: 0, ID: core.NewVersion(), Size: e.Size}
	ss := sealSegment(fakeMaster().Keys(), &seg, data)
	ss.sums(&seg)
	seg.MD5 = strings.Repeat("0", 32)
	var chunks [core.NumChunks][]byte
	e.Copies = make([][core.NumChunks][]int, 1)
	for ch := range seg.Chunks {
		chunks[ch] = bytes.Clone(ss.chunk(ch))
		nodes := core.ChunkNodes(0, ch)
		e.Copies[0][ch] = nodes[:]
	}
	ss.release()
	e.Segments = []wire.Segment{seg}
	return e, chunks
}

// chunkServers returns four fake nodes that answer GET_CHUNK from chunks
// (of the file e describes, as stored), sending the range asked for at
// once, but for node odd, which sends its part of chunk 0 with send.
func chunkServers(t *testing.T, e Entry, chunks [core.NumChunks][]byte, odd int, send func(f *fakeNode, conn *wire.Conn, p []byte) error) [core.NumNodes]*fakeNode {
	var nodes [core.NumNodes]*fakeNode
	for n := range nodes {
		f := newFakeNode(t)
		f.keys.key = fakeWrapped()
		f.handlers[wire.TypeGetChunk] = func(conn *wire.Conn, body []byte) error {
			var req wire.GetChunkReq
			if err := json.Unmarshal(body, &req); err != nil {
				return err
			}
			p := chunks[req.Chunk][req.Offset : req.Offset+req.Length]
			if err := conn.Send(wire.TypeGetChunk, wire.StatusOK, wire.GetChunkResp{Size: e.Segments[0].Chunks[req.Chunk].Size, SHA256: e.Segments[0].Chunks[req.Chunk].SHA256}); err != nil {
				return err
			}
			if n == odd && req.Chunk == 0 {
				return send(f, conn, p)
			}
			return sendAll(conn, p)
		}
		nodes[n] = f
	}
	return nodes
}

// sendAll sends p as one stream at once.
func sendAll(conn *wire.Conn, p []byte) error {
	if err := conn.WriteData(p); err != nil {
		return err
	}
	if err := conn.WriteEnd(); err != nil {
		return err
	}
	return conn.Flush()
}
