package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"dfs/core"
	"dfs/core/crypt"
	"dfs/core/wire"
)

// maxIdle is how many idle connections are kept per node.
const maxIdle = 8

// errDown is returned without trying while a node is skipped after a timeout.
var errDown = errors.New("node did not answer recently; skipped")

// nodePool holds one node's idle authenticated connections and whether it is
// being skipped.
type nodePool struct {
	c          *Client
	idx        int
	name, addr string
	label      string // how errors name the node: "DFS2 (host:port)"
	pinned     bool   // nothing to decide at first contact: the node has a pin in the configuration, or no TLS
	// connect opens a connection to the node: wire.Dial, or a fake node
	// in tests.
	connect func(ctx context.Context) (net.Conn, error)

	mu         sync.Mutex  // guards the fields below
	tls        *tls.Config // nil with Plaintext; pinned once first contact accepted the key
	contact    *contact    // first contact with a node without a pin (firstcontact.go)
	idle       []*stub
	downUntil  time.Time
	downFor    time.Duration // the last skip; doubled while the node keeps failing
	lastAnswer time.Time     // when the newest request the node answered was sent
	probe      *probe        // the liveness check in flight (alive.go), if any

	// missed is set when a request to the node failed without its answer
	// (down, hung, left behind): it may lack a change the others have.
	// The healer takes it (RunHealer), so a node that was down only
	// between two of its checks is healed too.
	missed atomic.Bool

	forged forged // what the node served that failed authentication (forged.go)
}

// maxRetryDown bounds how long a node that keeps failing is skipped: the
// healer's checks (every 10 s) and the next request after it notice its
// return.
const maxRetryDown = 15 * time.Second

func newNodePool(c *Client, idx int, a NodeAddr) *nodePool {
	p := &nodePool{c: c, idx: idx, name: a.Name, addr: a.Addr}
	if p.name == "" {
		p.name = core.NodeName(idx)
	}
	p.label = p.name
	if a.Addr != "" {
		p.label = fmt.Sprintf("%s (%s)", p.name, a.Addr)
	}
	p.pinned = c.cfg.Plaintext || a.Pin != ""
	if !c.cfg.Plaintext {
		p.tls = wire.ClientTLS(p.name, a.Addr, a.Pin)
	}
	p.connect = func(ctx context.Context) (net.Conn, error) {
		p.mu.Lock()
		cfg := p.tls
		p.mu.Unlock()
		return wire.Dial(ctx, p.addr, cfg)
	}
	return p
}

func (p *nodePool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, s := range idle {
		s.conn.Close()
	}
}

// isDown reports whether the node is being skipped.
func (p *nodePool) isDown() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Now().Before(p.downUntil)
}

// markDown skips the node for RetryDown, twice as long each time it fails
// again right after a skip (up to maxRetryDown): every request to a hung
// node costs the wait that shows it hangs, and a node that stays hung
// should not cost it every two seconds.
func (p *nodePool) markDown() {
	p.mu.Lock()
	now := time.Now()
	switch {
	case p.downFor == 0 || now.After(p.downUntil.Add(p.downFor)):
		p.downFor = p.c.cfg.RetryDown // the first failure in a while
	case now.After(p.downUntil):
		p.downFor = min(2*p.downFor, maxRetryDown)
	}
	p.downUntil = now.Add(p.downFor)
	p.mu.Unlock()
	p.closeIdle()
}

// answered notes that the node answered a request sent at sent: it was
// alive then (see alive; the time of the answer would not say it, as a
// node may hang with an answer on its way), and its next failure is
// skipped for RetryDown only.
func (p *nodePool) answered(sent time.Time) {
	p.mu.Lock()
	p.downFor = 0
	if sent.After(p.lastAnswer) {
		p.lastAnswer = sent
	}
	p.mu.Unlock()
}

// lastAnswered is when the newest request the node answered was sent.
func (p *nodePool) lastAnswered() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastAnswer
}

// get returns an idle connection (fresh=false) or a new authenticated one.
func (p *nodePool) get(ctx context.Context) (s *stub, fresh bool, err error) {
	p.mu.Lock()
	if time.Now().Before(p.downUntil) {
		p.mu.Unlock()
		return nil, false, errDown
	}
	if n := len(p.idle); n > 0 {
		s = p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return s, false, nil
	}
	p.mu.Unlock()
	s, err = p.dial(ctx)
	return s, true, err
}

func (p *nodePool) put(s *stub) {
	s.conn.SetDeadline(time.Time{})
	s.conn.SetIdle(0)
	p.mu.Lock()
	if len(p.idle) < maxIdle {
		p.idle = append(p.idle, s)
		s = nil
	}
	p.mu.Unlock()
	if s != nil {
		s.conn.Close()
	}
}

// timedOut notes a request to the node sent at since that timed out: the
// node is skipped for a while if another node answered a later request
// (else everyone is slow, and skipping nodes would fail everything).
func (p *nodePool) timedOut(since time.Time) {
	if p.c.othersAnswered(p.idx, since) {
		p.markDown()
	}
}

// dial connects, handshakes and authenticates within the Timeout.
func (p *nodePool) dial(ctx context.Context) (*stub, error) {
	// The root key first: its derivation (once per password) must not
	// keep a connection waiting on the node's login timeout.
	root, pw, err := p.c.loginRoot()
	if err != nil {
		return nil, err
	}
	return p.dialAs(ctx, root, pw)
}

// dialAs is dial logging in with root, the root key of pw; pw is "" for
// a password other than the client's (Passwd's), whose refusal says
// nothing about the client's own.
func (p *nodePool) dialAs(ctx context.Context, root *crypt.Root, pw string) (*stub, error) {
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, p.c.cfg.Timeout)
	defer cancel()
	nc, err := p.connect(dctx)
	if err != nil {
		if pe := pinMismatch(err); pe != nil {
			if p.repin() {
				return p.dialAs(ctx, root, pw)
			}
			return nil, pe
		}
		err = notNode(p.addr, err)
		if ctx.Err() != nil {
			return nil, context.Cause(ctx) // the caller gave up: says nothing about the node
		}
		if isTimeout(err) || dctx.Err() != nil {
			p.timedOut(start)
		}
		return nil, err
	}
	if !p.pinned {
		again, err := p.firstContact(ctx, nc)
		if err != nil {
			return nil, err
		}
		if again {
			return p.dialAs(ctx, root, pw) // checked against the key just accepted
		}
	}
	// The handshake proved the node alive; the login check (queued behind
	// other logins on a busy node) gets the login's reply time, which
	// outlasts the delay of a wrong password's refusal: that arrives as
	// ErrAuth and never marks the node down.
	s := newStub(p, nc, &p.c.cfg)
	stop := context.AfterFunc(ctx, s.conn.Interrupt)
	err = s.auth(p.c.cfg.User, root)
	if !stop() {
		s.conn.Close()
		return nil, context.Cause(ctx) // the caller gave up: says nothing about the node
	}
	if err != nil {
		s.conn.Close()
		var re *wire.RemoteError
		if errors.As(err, &re) && re.Status == wire.StatusAuthFailed {
			if pw != "" && p.c.loginRefused(pw, p.idx) {
				return p.dial(ctx)
			}
			return nil, core.ErrAuth
		}
		if errors.As(err, &re) {
			return nil, remoteErr(re) // a login refused as busy: the user's connections at their limit, or the login's wait for its turn too long
		}
		if isTimeout(err) {
			p.timedOut(start)
			return nil, fmt.Errorf("no answer to the login within %v", loginWait(&p.c.cfg))
		}
		return nil, notNode(p.addr, err)
	}
	if pw != "" {
		p.c.loginAccepted(pw, p.idx)
	}
	s.conn.SetDeadline(time.Time{})
	return s, nil
}

// call runs one request on a connection to node n: fn makes it through the
// stub, which sets the deadlines. A pooled connection that turns out to be
// dead (node restarted) is replaced once. Errors are wrapped with the node's
// name; a timeout marks the node down for RetryDown.
func (c *Client) call(ctx context.Context, n int, fn func(s *stub) error) error {
	return c.callRetry(ctx, n, true, fn)
}

// callOnce is call without the retry on a stale pooled connection, for fn
// that consume their input as they go; the caller retries if it can.
func (c *Client) callOnce(ctx context.Context, n int, fn func(s *stub) error) error {
	return c.callRetry(ctx, n, false, fn)
}

func (c *Client) callRetry(ctx context.Context, n int, retry bool, fn func(s *stub) error) error {
	p := c.nodes[n]
	for attempt := 0; ; attempt++ {
		s, fresh, err := p.get(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, core.ErrAuth) {
				p.missed.Store(true)
			}
			return fmt.Errorf("%s: %w", p.label, err)
		}
		stop := context.AfterFunc(ctx, s.conn.Interrupt)
		sent := time.Now()
		s.ctx = ctx
		err = fn(s)
		s.ctx = nil
		interrupted := !stop()
		if u := (unsent{}); errors.As(err, &u) && !interrupted {
			p.put(s) // nothing was sent: the connection is in step
			return u.error
		}
		c.cfg.Metrics.request(p.name, s.conn, sent, err)
		if err == nil && !interrupted {
			p.answered(sent)
			p.put(s)
			return nil
		}
		if err == nil {
			s.conn.Close() // a cancellation may still set a deadline on it
			return nil
		}
		var re *wire.RemoteError
		if errors.As(err, &re) && re.Status != wire.StatusBadRequest && !interrupted {
			p.answered(sent)
			p.put(s) // the node answered: the connection is in step
			return fmt.Errorf("%s: %w", p.label, remoteErr(re))
		}
		s.conn.Close()
		if interrupted && ctx.Err() != nil {
			// The caller gave up, or left this node behind (errLagging).
			if errors.Is(context.Cause(ctx), errLagging) {
				p.missed.Store(true)
			}
			return fmt.Errorf("%s: %w", p.label, context.Cause(ctx))
		}
		p.missed.Store(true)
		if !fresh && attempt == 0 && isStaleConn(err) {
			// The node closed a pooled connection (it restarted): the
			// other idle ones are from before too, and a retry on one of
			// them would fail the same way.
			p.closeIdle()
			if retry {
				continue
			}
		}
		if isTimeout(err) {
			p.timedOut(sent)
			return fmt.Errorf("%s: node stopped answering: %w", p.label, err)
		}
		return fmt.Errorf("%s: %w", p.label, err)
	}
}

// isStaleConn reports errors of a pooled connection the node has closed.
func isStaleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

// statusErrors maps node statuses to the sentinels callers test for.
var statusErrors = map[wire.Status]error{
	wire.StatusAuthFailed: core.ErrAuth,
	wire.StatusNotFound:   core.ErrNotFound,
	wire.StatusExist:      core.ErrExist,
	wire.StatusBadRequest: core.ErrBadName,
	wire.StatusNoSpace:    core.ErrNoSpace,
	wire.StatusCorrupt:    core.ErrCorrupt,
	wire.StatusNotEmpty:   core.ErrNotEmpty,
	wire.StatusStale:      core.ErrStale,
	wire.StatusNotDir:     core.ErrNotDir,
	wire.StatusIsDir:      core.ErrIsDir,
	wire.StatusIncomplete: core.ErrIncomplete,
	wire.StatusQuota:      core.ErrQuota,
	wire.StatusBusy:       core.ErrBusy,
}

// remoteErr turns a node's error reply into a *nodeError, wrapping the
// sentinel of its status where there is one.
func remoteErr(re *wire.RemoteError) error {
	if s, ok := statusErrors[re.Status]; ok {
		return &nodeError{kind: s, msg: re.Message}
	}
	return &nodeError{kind: re}
}

// nodeError is a node's answer refusing a request: printed as the node said
// it (or as its kind without a message), tested with errors.Is against the
// kind.
type nodeError struct {
	kind error
	msg  string
}

func (e *nodeError) Error() string {
	if e.msg == "" {
		return e.kind.Error()
	}
	return e.msg
}

func (e *nodeError) Unwrap() error { return e.kind }
