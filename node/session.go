package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"dfs/core"
	"dfs/core/wire"
	"dfs/node/store"
)

// session is one client connection.
type session struct {
	s      *Server
	nc     net.Conn
	wc     *wire.Conn
	remote string
	start  time.Time
	authed atomic.Bool    // set once AUTH succeeded; read by the MaxConns eviction
	user   string         // the authenticated user
	us     *store.UserDir // the user's folder (shared by the user's connections), set by AUTH (join)
}

func newSession(s *Server, nc net.Conn) *session {
	return &session{s: s, nc: nc, wc: wire.NewConn(nc), remote: nc.RemoteAddr().String(), start: time.Now()}
}

func (c *session) close() { c.nc.Close() }

// serve authenticates the connection, then answers requests one at a time
// until the peer leaves, a deadline passes or the stream is no longer
// trusted.
func (c *session) serve() {
	if !c.authenticate() {
		return
	}
	// Only now does the connection get its large buffers: before login a
	// node may hold -max-conns connections of strangers (wire.Conn.Grow).
	if err := c.wc.Grow(); err != nil {
		c.logReadErr("after AUTH", err)
		return
	}
	for {
		_ = c.nc.SetDeadline(time.Now().Add(c.s.cfg.IdleTimeout))
		h, body, err := c.wc.ReadRequest()
		if err != nil {
			c.logReadErr("read request", err)
			if isProtocolErr(err) {
				_ = c.nc.SetDeadline(time.Now().Add(c.s.cfg.IOTimeout))
				_ = c.wc.SendError(h.Type, wire.StatusBadRequest, err.Error())
			}
			return
		}
		_ = c.nc.SetDeadline(time.Now().Add(c.s.cfg.IOTimeout))
		if !c.dispatch(h, body) {
			return
		}
	}
}

// isProtocolErr reports a frame the peer got wrong (as opposed to a broken
// or closed connection), which deserves a reply before closing.
func isProtocolErr(err error) bool {
	return errors.Is(err, wire.ErrTooLarge) || errors.Is(err, wire.ErrType) || errors.Is(err, wire.ErrVersion) ||
		err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isNetErr(err)
}

func isNetErr(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, syscall.EPIPE)
}

func (c *session) logReadErr(what string, err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return
	}
	c.s.log.Info(what+" failed; closing", "remote", c.remote, "user", c.user, "err", err)
}

// reqError is a reply with a status other than OK. fatal closes the
// connection after the reply, when the stream state is unknown.
type reqError struct {
	status wire.Status
	msg    string
	fatal  bool
}

func (e *reqError) Error() string { return e.status.String() + ": " + e.msg }

func replyErr(st wire.Status, format string, args ...any) error {
	return &reqError{status: st, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return replyErr(wire.StatusBadRequest, format, args...)
}

// connError is a failure to talk to the peer; the connection is closed.
type connError struct{ err error }

func (e *connError) Error() string { return "connection: " + e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

// sendBody writes one reply frame with a binary body under the I/O
// deadline.
func (c *session) sendBody(t wire.Type, body []byte) error {
	_ = c.nc.SetDeadline(time.Now().Add(c.s.cfg.IOTimeout))
	if err := c.wc.SendBody(t, body); err != nil {
		return &connError{err}
	}
	return nil
}

// send writes one reply frame under the I/O deadline. When the client's
// next request is already here (it pipelines, as a small put does), the
// reply waits to go out with the next one: one write instead of several.
func (c *session) send(t wire.Type, v any) error {
	_ = c.nc.SetDeadline(time.Now().Add(c.s.cfg.IOTimeout))
	if err := c.wc.Write(t, wire.StatusOK, v); err != nil {
		return &connError{err}
	}
	if c.wc.Buffered() > 0 {
		return nil
	}
	if err := c.wc.Flush(); err != nil {
		return &connError{err}
	}
	return nil
}

type handlerFunc func(c *session, body []byte) error

var handlers = map[wire.Type]handlerFunc{
	wire.TypePutChunk: (*session).putChunk,
	wire.TypeCommit:   (*session).commit,
	wire.TypeGetChunk: (*session).getChunk,
	wire.TypeList:     (*session).list,
	wire.TypeLookup:   (*session).lookup,
	wire.TypeUpdate:   (*session).update,
	wire.TypeRename:   (*session).rename,
	wire.TypeInfo:     (*session).info,
	wire.TypePasswd:   (*session).passwd,
	wire.TypePurge:    (*session).purge,
	wire.TypeScan:     (*session).scan,
	wire.TypeSync:     (*session).sync,
	wire.TypeDrop:     (*session).drop,
	wire.TypeKeyGet:   (*session).keyGet,
	wire.TypeKeyPut:   (*session).keyPut,
}

// dispatch runs one request and sends its error reply if it failed. It
// returns false when the connection must be closed.
func (c *session) dispatch(h wire.Header, body []byte) bool {
	fn := handlers[h.Type]
	var err error
	if fn == nil || h.Status != wire.StatusOK {
		err = &reqError{status: wire.StatusBadRequest, msg: fmt.Sprintf("unexpected %s frame", h.Type), fatal: true}
	} else {
		end := c.s.cfg.Metrics.begin(h.Type, c.wc)
		err = fn(c, body)
		end(err)
	}
	if err == nil {
		return true
	}
	var ce *connError
	if errors.As(err, &ce) {
		c.logReadErr(h.Type.String(), ce.err)
		return false
	}
	re := c.toReqError(h.Type, err)
	_ = c.nc.SetDeadline(time.Now().Add(c.s.cfg.IOTimeout))
	if serr := c.wc.SendError(h.Type, re.status, re.msg); serr != nil {
		return false
	}
	return !re.fatal
}

// toReqError maps a handler's error to a reply, logging unexpected ones.
func (c *session) toReqError(t wire.Type, err error) *reqError {
	var re *reqError
	var rf *store.Refusal
	switch {
	case errors.As(err, &re):
		return re
	case errors.As(err, &rf) && refusalStatus[rf.Err] != wire.StatusOK:
		return &reqError{status: refusalStatus[rf.Err], msg: rf.Msg}
	case errors.Is(err, core.ErrBadName):
		return &reqError{status: wire.StatusBadRequest, msg: err.Error()}
	case errors.Is(err, store.ErrSymlink):
		c.s.log.Warn("refused a symlink in the data folder", "user", c.user, "op", t.String(), "err", err)
		return &reqError{status: wire.StatusBadRequest, msg: "refusing a symlink or special file in the data folder"}
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		c.s.log.Error("disk full", "user", c.user, "op", t.String(), "err", err)
		return &reqError{status: wire.StatusNoSpace, msg: "no space left on node " + c.s.cfg.Name}
	case errors.Is(err, syscall.ENAMETOOLONG):
		return &reqError{status: wire.StatusBadRequest, msg: "name too long for this node's filesystem"}
	case errors.Is(err, fs.ErrNotExist):
		return &reqError{status: wire.StatusNotFound, msg: "not found"}
	}
	c.s.log.Error("request failed", "user", c.user, "op", t.String(), "err", err)
	return &reqError{status: wire.StatusInternal, msg: "internal error on node " + c.s.cfg.Name + " (see its log)"}
}

// refusalStatus is the reply to each reason the store gives for refusing a
// change.
var refusalStatus = map[error]wire.Status{
	core.ErrStale:          wire.StatusStale,
	core.ErrExist:          wire.StatusExist,
	core.ErrNotDir:         wire.StatusNotDir,
	core.ErrIsDir:          wire.StatusIsDir,
	core.ErrNotEmpty:       wire.StatusNotEmpty,
	core.ErrNotFound:       wire.StatusNotFound,
	core.ErrIncomplete:     wire.StatusIncomplete,
	core.ErrBusy:           wire.StatusBusy,
	core.ErrNoSpace:        wire.StatusNoSpace,
	store.ErrUnknownUpdate: wire.StatusBadRequest,
	store.ErrBadMeta:       wire.StatusBadRequest,
}

// decode parses a request body; malformed JSON closes the connection.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &reqError{status: wire.StatusBadRequest, msg: "malformed request: " + err.Error(), fatal: true}
	}
	return nil
}

// cleanPath checks a user path from a request; root says whether "" is
// allowed.
func cleanPath(p string, root bool) (string, error) {
	cp, err := core.CleanName(p)
	if err != nil {
		return "", badRequest("%v", err)
	}
	if cp == "" && !root {
		return "", badRequest("the root folder cannot be the target")
	}
	return cp, nil
}

// checkStamp validates a version id from a request.
func checkStamp(what, v string) error {
	if !core.ValidVersion(v) {
		return badRequest("invalid %s %q", what, v)
	}
	return nil
}

// checkSeal refuses a seal longer than wire.MaxSeal; what it says is the
// clients' to check (the binary COMMIT's decoder refuses one too).
func checkSeal(seal string) error {
	if len(seal) > wire.MaxSeal {
		return badRequest("a seal of %d bytes (at most %d)", len(seal), wire.MaxSeal)
	}
	return nil
}
