package client

import (
	"context"
	"errors"
	"fmt"
	"net"

	"dfs/core"
	"dfs/core/wire"
)

// First contact with a node whose NodeAddr has no pin: its TLS handshake
// accepts any key, and before anything is sent on the connection (the
// login included) Config.OnNewPin decides about that key, once for the
// client's life. An accepted key becomes the node's pin; a refused one
// refuses the node as a pin mismatch would.

// contact is the decision about a node's key at first contact, shared by
// every connection that meets the node while it is made and kept after.
type contact struct {
	done chan struct{} // closed once decided
	fp   string        // the key asked about
	err  error         // the refusal (a *keyRefused), set before done closes
}

// errUndecided is a connection that gave up waiting for OnNewPin: it says
// nothing about whether the node is hung (see alive).
var errUndecided = errors.New("gave up waiting for the decision about the node's key")

// keyRefused is OnNewPin's refusal of a node's key: printed as OnNewPin
// said it, and a pin mismatch for errors.Is.
type keyRefused struct{ err error }

func (e *keyRefused) Error() string   { return e.err.Error() }
func (e *keyRefused) Unwrap() []error { return []error{core.ErrPinMismatch, e.err} }

// firstContact decides about the key of the unpinned node on nc, a fresh
// connection on which nothing was sent. The first connection to meet the
// node starts the decision; the others wait for it (or for ctx). On an
// error, nc is closed. So it is when again is true: the connection waited
// for OnNewPin, which may have asked a person for longer than the node
// waits for a login, and the caller dials anew, checked against the
// accepted key.
func (p *nodePool) firstContact(ctx context.Context, nc net.Conn) (again bool, err error) {
	fp, ok := wire.PeerFingerprint(nc)
	if !ok {
		return false, nil // plaintext: nothing to decide about
	}
	p.mu.Lock()
	c := p.contact
	if c == nil {
		c = &contact{done: make(chan struct{}), fp: fp}
		p.contact = c
		go p.decide(c)
	}
	p.mu.Unlock()
	waited := false
	select {
	case <-c.done:
	default:
		waited = true
		select {
		case <-c.done:
		case <-ctx.Done():
			err = fmt.Errorf("%w (%w)", errUndecided, context.Cause(ctx))
		}
	}
	switch {
	case err != nil:
	case c.err != nil:
		err = c.err
	case fp != c.fp:
		// Two keys answered at this address at once: someone is in
		// between on one of them.
		err = pinMismatch(&wire.PinError{Name: p.name, Addr: p.addr, Got: fp, Want: c.fp})
	case !waited || p.c.cfg.OnNewPin == nil:
		return false, nil
	default:
		again = true
	}
	nc.Close()
	return again, err
}

// decide asks OnNewPin about c's key and records the answer: an accepted
// key becomes the node's pin, which every later handshake checks.
func (p *nodePool) decide(c *contact) {
	defer close(c.done)
	if ask := p.c.cfg.OnNewPin; ask != nil {
		if err := ask(p.idx, c.fp); err != nil {
			c.err = &keyRefused{err}
			p.c.log.Warn("first contact: refused the key of a node without a pin", "node", p.label, "fingerprint", c.fp, "err", err)
			return
		}
	}
	p.mu.Lock()
	p.tls = wire.ClientTLS(p.name, p.addr, c.fp)
	p.mu.Unlock()
	p.c.log.Warn("first contact: pinned the key of a node without a pin", "node", p.label, "fingerprint", c.fp)
}

// deciding reports whether OnNewPin is deciding about the node's key now:
// a person may be comparing fingerprints, and the node is not hung.
func (p *nodePool) deciding() bool {
	p.mu.Lock()
	c := p.contact
	p.mu.Unlock()
	if c == nil {
		return false
	}
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// pinMismatch returns err as core.ErrPinMismatch when it is a node
// presenting another key than its pin, else nil.
func pinMismatch(err error) error {
	var pe *wire.PinError
	if errors.As(err, &pe) {
		return fmt.Errorf("%w: %v", core.ErrPinMismatch, pe)
	}
	return nil
}
