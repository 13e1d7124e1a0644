package wire

import (
	"context"
	"crypto/tls"
	"net"
)

// Dial is the one place clients connect to nodes. With cfg nil the
// connection is plaintext (only by the explicitly named insecure option).
func Dial(ctx context.Context, addr string, cfg *tls.Config) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if cfg == nil {
		return nc, nil
	}
	tc := newTLSClient(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return tc, nil
}

// Listen is the one place nodes accept connections. With cfg nil the
// listener is plaintext. The TLS handshake happens on first read, under the
// node's pre-authentication deadline.
func Listen(addr string, cfg *tls.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return NewListener(ln, cfg), nil
}

// NewListener serves the protocol's transport over ln: TLS with cfg, or
// plaintext with cfg nil. (Tests put their own listener underneath.)
func NewListener(ln net.Listener, cfg *tls.Config) net.Listener {
	if cfg == nil {
		return ln
	}
	return &batchListener{Listener: ln, cfg: cfg}
}
