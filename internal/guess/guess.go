// Package guess is a hostile client for tests: another host trying
// passwords over many connections at once, in raw AUTH frames
// (docs/protocol.md), as an attacker without an account would. A real
// guess costs the attacker an argon2 derivation before it is sent; the
// guesser sends its guess as the proof itself, which costs the node the
// same check and never verifies.
package guess

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dfs/core/wire"
)

// Dial opens a connection to a node.
type Dial func(ctx context.Context) (net.Conn, error)

// From dials addr from the local IP ip, in TLS with cfg (nil: plaintext).
// On Linux every 127.x.y.z is local, so a test can play another host on
// loopback (see NeedHost).
func From(ip, addr string, cfg *tls.Config) Dial {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return func(ctx context.Context) (net.Conn, error) {
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err != nil || cfg == nil {
			return nc, err
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		return tc, nil
	}
}

// NeedHost skips the test unless connections can come from ip here. On
// Linux, where they always can from 127.x.y.z, it fails the test instead:
// CI must not skip it.
func NeedHost(t testing.TB, ip string) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err == nil {
		ln.Close()
		return
	}
	if runtime.GOOS == "linux" {
		t.Fatalf("cannot play another host: %v", err)
	}
	t.Skipf("cannot play another host here: %v", err)
}

// Guesser logs in with a wrong password over several connections until
// stopped: each connection logs in, reads the refusal and starts again.
type Guesser struct {
	refused atomic.Int64 // wrong-password refusals received
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// Start runs conns connections made by dial, connection i logging in as
// users[i%len(users)] with password.
func Start(dial Dial, users []string, password string, conns int) *Guesser {
	ctx, cancel := context.WithCancel(context.Background())
	g := &Guesser{cancel: cancel}
	for i := range conns {
		g.wg.Go(func() {
			for ctx.Err() == nil {
				if err := g.try(ctx, dial, users[i%len(users)], password); err != nil && ctx.Err() == nil {
					time.Sleep(10 * time.Millisecond) // the node refused the connection: do not spin
				}
			}
		})
	}
	return g
}

// try logs in once; a refusal of the password is counted, and is no error.
func (g *Guesser) try(ctx context.Context, dial Dial, user, password string) error {
	nc, err := dial(ctx)
	if err != nil {
		return err
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	wc := wire.NewConn(nc)
	if err := wc.Send(wire.TypeAuth, wire.StatusOK, wire.AuthReq{User: user, Proof: password}); err != nil {
		return err
	}
	err = wc.Recv(wire.TypeAuth, &wire.AuthResp{})
	var re *wire.RemoteError
	if errors.As(err, &re) && re.Status == wire.StatusAuthFailed {
		g.refused.Add(1)
		return nil
	}
	if err == nil {
		return errors.New("guess: the password was right")
	}
	return err
}

// Stop ends every connection and returns how many refusals came.
func (g *Guesser) Stop() int {
	g.cancel()
	g.wg.Wait()
	return int(g.refused.Load())
}
