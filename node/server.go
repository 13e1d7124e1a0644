package node

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"dfs/node/store"
)

// Version is the dfsnode build version reported to clients; set it with
// -ldflags "-X dfs/node.Version=...".
var Version = "dev"

// Accounts are the users who may log in and their login verifiers: what
// the node needs of dfs.conf (*conf.UserDB).
type Accounts interface {
	// Check reports whether proof logs user in on the connection whose
	// binding is given (wire.LoginBinding, crypt.VerifyLogin). An error
	// says why the user cannot log in at all (an entry that predates the
	// verifiers), for the client.
	Check(user string, binding []byte, proof string) (bool, error)
	// SetLogin changes the user's login verifier (an atomic edit of
	// dfs.conf).
	SetLogin(user, login string) error
	// Quota returns the most bytes the node may hold for the user, 0 for
	// no limit; it is asked at every chunk upload, so a change applies at
	// once.
	Quota(user string) int64
}

// Config configures a Server. Zero durations and limits take the defaults
// noted on each field.
type Config struct {
	Dir         string        // data folder (created if missing)
	Name        string        // for logs and AUTH replies; default filepath.Base(Dir)
	Users       Accounts      // required
	TLS         *tls.Config   // nil = plaintext
	Log         *slog.Logger  // nil = discard
	MaxConns    int           // default 1024; beyond it the oldest unauthenticated conn is closed, or the new one refused
	AuthTimeout time.Duration // default 10s: TLS handshake + AUTH must finish within it, and a login waits for its turn (throttle.go) at most as long
	IdleTimeout time.Duration // default 10m between requests once authenticated
	IOTimeout   time.Duration // default 60s for any single read/write during a request
	ScrubRate   int64         // bytes/s for the background scrub; 0 = no background scrub
	ScrubEvery  time.Duration // default 24h
	FlushDelay  time.Duration // default store.DefaultFlushDelay: how long an acknowledged change may wait to be written to disk
	Grace       time.Duration // default DefaultGrace: how long the segments no version lists any more (replaced, removed) stay readable

	// Per-user limits (budget.go, docs/security.md): one user at a limit
	// is refused as busy and affects no one else. The quota of each user
	// comes from Users (Accounts.Quota).
	MaxUserConns int          // default DefaultMaxUserConns: logged-in connections of one user
	Budget       store.Budget // what one user's uploads waiting for their commit may hold; zero fields take store's defaults

	Metrics *Metrics // nil: none (metrics.go)

	listBatch  int           // most entries in a LIST reply frame; default listBatch (tests shorten it)
	loginDelay time.Duration // the delay after a first failed login; default defaultLoginDelay (tests shorten it)
}

// DefaultGrace is Config.Grace's default: longer than a reader takes
// between two reads of an open file, short enough that replaced data does
// not pile up (docs/format.md, Chunk files).
const DefaultGrace = 2 * time.Minute

// maxChecks is how many login checks run at once. A check (an ed25519
// verify) is cheap; the bound stays so that a flood of logins queues, and
// is refused as busy, instead of taking every core.
const maxChecks = 4

// Server is a chunk node.
type Server struct {
	cfg      Config
	log      *slog.Logger
	throttle *throttle
	checks   chan struct{} // semaphore: concurrent login checks (maxChecks)
	store    *store.Store  // the data folder

	done    chan struct{} // closed by Close
	bg      sync.WaitGroup
	handler sync.WaitGroup

	started time.Time // reported by INFO, so clients notice a restart

	mu        sync.Mutex // guards the fields below
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[*session]struct{}

	usersMu   sync.Mutex     // guards userConns; held while a user's last connection drops the user's uploads
	userConns map[string]int // logged-in connections per user
}

// New checks cfg, opens the data folder (recovering from the last stop,
// which removes the uploads it left) and starts the background jobs.
func New(cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("node: no data folder")
	}
	if cfg.Users == nil {
		return nil, errors.New("node: no accounts (Config.Users)")
	}
	if cfg.Name == "" {
		cfg.Name = filepath.Base(cfg.Dir)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 1024
	}
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = 10 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 10 * time.Minute
	}
	if cfg.IOTimeout <= 0 {
		cfg.IOTimeout = 60 * time.Second
	}
	if cfg.listBatch <= 0 {
		cfg.listBatch = listBatch
	}
	if cfg.loginDelay <= 0 {
		cfg.loginDelay = defaultLoginDelay
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.ScrubEvery <= 0 {
		cfg.ScrubEvery = 24 * time.Hour
	}
	if cfg.MaxUserConns <= 0 {
		cfg.MaxUserConns = DefaultMaxUserConns
	}
	s := &Server{started: time.Now(),
		cfg:       cfg,
		log:       cfg.Log.With("node", cfg.Name),
		throttle:  newThrottle(cfg.loginDelay),
		checks:    make(chan struct{}, maxChecks),
		done:      make(chan struct{}),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*session]struct{}{},
		userConns: map[string]int{},
	}
	st, err := store.Open(store.Config{Dir: cfg.Dir, Log: s.log, FlushDelay: cfg.FlushDelay, Budget: cfg.Budget})
	if err != nil {
		return nil, err
	}
	s.store = st
	cfg.Metrics.watchStore(s)
	s.bg.Add(1)
	go s.background()
	return s, nil
}

// Serve accepts connections on ln until Close; it returns nil once Close was
// called, or the listener's error.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				if s.isClosed() {
					return nil
				}
				return err
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "in", backoff)
				select {
				case <-time.After(backoff):
				case <-s.done:
				}
				continue
			}
			return err
		}
		backoff = 0
		sess := s.track(nc)
		if sess == nil {
			continue
		}
		go s.handle(sess)
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// track registers a new connection, making room under MaxConns by closing
// the oldest unauthenticated connection; without one, nc is refused. The
// handler count is raised here so Close waits for it.
func (s *Server) track(nc net.Conn) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		nc.Close()
		return nil
	}
	if len(s.conns) >= s.cfg.MaxConns {
		var oldest *session
		for c := range s.conns {
			if !c.authed.Load() && (oldest == nil || c.start.Before(oldest.start)) {
				oldest = c
			}
		}
		if oldest == nil {
			s.log.Warn("too many connections; refusing", "remote", nc.RemoteAddr().String(), "max", s.cfg.MaxConns)
			nc.Close()
			return nil
		}
		s.log.Warn("too many connections; closing the oldest unauthenticated one", "remote", oldest.remote)
		delete(s.conns, oldest)
		oldest.nc.Close()
	}
	sess := newSession(s, nc)
	s.conns[sess] = struct{}{}
	s.handler.Add(1)
	return sess
}

func (s *Server) untrack(c *session) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// handle serves one connection, recovering a panic so one bad request never
// takes the node down.
func (s *Server) handle(c *session) {
	defer s.handler.Done()
	s.cfg.Metrics.conn(1)
	defer s.cfg.Metrics.conn(-1)
	defer s.untrack(c)
	defer c.leave()
	defer c.close()
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic serving connection", "remote", c.remote, "user", c.user, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	c.serve()
}

// Close stops the listeners and every connection and waits for the handlers
// and background jobs to finish.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	for ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.handler.Wait()
	s.bg.Wait()
	s.store.Close() // what was acknowledged goes to disk before the node stops
	return nil
}

// userDir returns the user's folder, opening it on first use.
func (s *Server) userDir(user string) (*store.UserDir, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("node is shutting down")
	}
	return s.store.User(user)
}

// Scrub verifies every user's chunks now at full speed, quarantining bad
// ones.
func (s *Server) Scrub(ctx context.Context) (store.ScrubReport, error) {
	ctx, cancel := s.withClose(ctx)
	defer cancel()
	return s.store.Scrub(ctx, 0)
}

// withClose returns ctx, cancelled also when the server closes.
func (s *Server) withClose(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// background drops idle uploads (checking four times per Budget.Idle),
// sweeps released segments and runs the scrub every ScrubEvery when
// ScrubRate is set.
func (s *Server) background() {
	defer s.bg.Done()
	clean := time.NewTicker(max(s.store.Budget().Idle/4, 10*time.Millisecond))
	defer clean.Stop()
	sweep := time.NewTicker(s.cfg.Grace / 4)
	defer sweep.Stop()
	var scrub <-chan time.Time
	if s.cfg.ScrubRate > 0 {
		t := time.NewTicker(s.cfg.ScrubEvery)
		defer t.Stop()
		scrub = t.C
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.done
		cancel()
	}()
	for {
		select {
		case <-s.done:
			return
		case now := <-clean.C:
			if n := s.store.DropIdle(now); n > 0 {
				s.log.Info("dropped idle uploads never committed", "uploads", n, "idle", s.store.Budget().Idle)
			}
		case <-sweep.C:
			s.store.SweepReleased(time.Now().Add(-s.cfg.Grace))
		case <-scrub:
			rep, err := s.store.Scrub(ctx, s.cfg.ScrubRate)
			if err != nil && ctx.Err() == nil {
				s.log.Error("background scrub failed", "err", err)
			} else if err == nil {
				s.log.Info("background scrub done", "chunks", rep.Checked, "bytes", rep.Bytes, "bad", len(rep.Bad))
			}
		}
	}
}
