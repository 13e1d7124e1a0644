package client

import (
	"crypto/tls"
	"errors"
	"fmt"

	"dfs/core/wire"
)

// notNode turns the errors of talking to a peer that is not a dfs node (a
// web server, ssh, a node without TLS met with TLS, or the reverse) into
// "not a dfs node at ADDR", which says what to check: the address in
// dfc.conf, or the Transport line. Crypto/tls and the frame codec only say
// "first record does not look like a TLS handshake" or "unsupported
// protocol version: 72". Other errors are returned as they are.
func notNode(addr string, err error) error {
	var rh tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.As(err, &rh):
		return &notNodeError{addr: addr, why: "it does not speak TLS: a plaintext node, or another service (" + err.Error() + ")", err: err}
	case errors.As(err, &alert) && (alert == 70 || alert == 80): // protocol_version, internal_error: an old or foreign TLS server
		return &notNodeError{addr: addr, why: err.Error(), err: err}
	case errors.Is(err, wire.ErrVersion), errors.Is(err, wire.ErrType):
		return &notNodeError{addr: addr, why: "its reply is not the dfs protocol (" + err.Error() + ")", err: err}
	}
	return err
}

// notNodeError is the peer at addr answering in something other than the
// dfs protocol.
type notNodeError struct {
	addr, why string
	err       error
}

func (e *notNodeError) Error() string {
	return fmt.Sprintf("not a dfs node at %s: %s", e.addr, e.why)
}

func (e *notNodeError) Unwrap() error { return e.err }
