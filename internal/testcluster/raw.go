package testcluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"time"

	"dfs/core/crypt"
	"dfs/core/wire"
)

// rawTimeout bounds every exchange on a raw connection, so that a test
// fails rather than hangs.
const rawTimeout = time.Minute

// Login opens a raw connection to node n (TLS with its pin, unless the
// cluster is plaintext) and logs in as user, for tests that speak the
// protocol's frames themselves (docs/protocol.md) as a hostile client
// would. The caller closes it.
func (c *Cluster) Login(n int, user, password string) (*wire.Conn, error) {
	a := c.Nodes()[n]
	var tc *tls.Config
	if !c.plain {
		tc = wire.ClientTLS(a.Name, a.Addr, a.Pin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), rawTimeout)
	defer cancel()
	nc, err := wire.Dial(ctx, a.Addr, tc)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(rawTimeout))
	wc := wire.NewConn(nc)
	proof := crypt.DeriveRoot(user, password).Prove(user, wire.LoginBinding(nc))
	if err := wc.Send(wire.TypeAuth, wire.StatusOK, wire.AuthReq{User: user, Proof: proof}); err != nil {
		nc.Close()
		return nil, err
	}
	if err := wc.Recv(wire.TypeAuth, &wire.AuthResp{}); err != nil {
		nc.Close()
		return nil, err
	}
	wc.SetCaps(wire.ClientCaps)
	return wc, nil
}

// PutChunk sends data on a raw connection as the chunk req names, with its
// size and SHA-256 filled in, and reads the reply (a *wire.RemoteError for
// a refusal).
func PutChunk(wc *wire.Conn, req wire.PutChunkReq, data []byte) error {
	_ = wc.SetDeadline(time.Now().Add(rawTimeout))
	sum := sha256.Sum256(data)
	req.Size, req.SHA256 = int64(len(data)), hex.EncodeToString(sum[:])
	if err := wc.Send(wire.TypePutChunk, wire.StatusOK, req); err != nil {
		return err
	}
	if _, err := wc.SendStream(bytes.NewReader(data), make([]byte, 64<<10)); err != nil {
		return err
	}
	return wc.Recv(wire.TypePutChunk, nil)
}
