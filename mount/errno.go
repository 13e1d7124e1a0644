package mount

import (
	"errors"
	"sync"
	"syscall"

	"dfs/core"
)

// errnos maps core's sentinel errors to errno; anything else is EIO. This is
// the only place errors become errnos (fs.ToErrno would not unwrap %w
// chains and would turn unknown errors into ENOSYS).
var errnos = []struct {
	err   error
	errno syscall.Errno
}{
	{core.ErrNotFound, syscall.ENOENT},
	{core.ErrExist, syscall.EEXIST},
	{core.ErrNotEmpty, syscall.ENOTEMPTY},
	{core.ErrNotDir, syscall.ENOTDIR},
	{core.ErrIsDir, syscall.EISDIR},
	{core.ErrNotFile, syscall.EINVAL},
	{core.ErrNameTooLong, syscall.ENAMETOOLONG}, // before ErrBadName, which it wraps
	{core.ErrBadName, syscall.EINVAL},
	{core.ErrNoSpace, syscall.ENOSPC},
	{core.ErrQuota, syscall.EDQUOT},
	{core.ErrTooLarge, syscall.EFBIG}, // past core.MaxFileSize
	{core.ErrAuth, syscall.EACCES},
	{core.ErrKey, syscall.EACCES}, // no master key this password opens
	// Node trouble is EIO even when a cause deeper in the chain is an errno
	// (a refused connection must not reach a program as ECONNREFUSED).
	{core.ErrNoNode, syscall.EIO},
	{core.ErrUnavailable, syscall.EIO},
	{core.ErrIncomplete, syscall.EIO},
	{core.ErrCorrupt, syscall.EIO},
	{core.ErrStale, syscall.EIO},
	{core.ErrPinMismatch, syscall.EIO},
	// A per-user limit of a node (docs/security.md, Limits): not EAGAIN,
	// which programs retry at once; the node's message, logged, says
	// which limit and when to retry.
	{core.ErrBusy, syscall.EIO},
}

// errno returns the errno for err (0 for nil). Errors that become EIO
// (nodes unreachable, incomplete or corrupt files, stale versions,
// timeouts, anything unexpected) are logged, each message once, and so is
// EDQUOT: the nodes' message says how full the user is where. There is no
// EINTR: requests are not interrupted (see uninterruptible).
func (s *fsys) errno(op string, err error) syscall.Errno {
	if err == nil {
		return 0
	}
	for _, m := range errnos {
		if errors.Is(err, m.err) {
			if m.errno == syscall.EIO || m.errno == syscall.EDQUOT {
				s.errs.once(s, op, err)
			}
			return m.errno
		}
	}
	// Local errors (the spool file on the cache disk) keep their errno.
	var en syscall.Errno
	if errors.As(err, &en) {
		return en
	}
	s.errs.once(s, op, err)
	return syscall.EIO
}

// errLog remembers which messages were logged, so that a node being down
// does not flood the log.
type errLog struct {
	mu   sync.Mutex // guards seen
	seen map[string]bool
}

const maxLogged = 1000

func (l *errLog) once(s *fsys, op string, err error) {
	msg := err.Error()
	l.mu.Lock()
	if l.seen == nil || len(l.seen) >= maxLogged {
		l.seen = map[string]bool{}
	}
	dup := l.seen[msg]
	l.seen[msg] = true
	l.mu.Unlock()
	if !dup {
		s.opts.Log.Warn("dfs: I/O error", "op", op, "err", msg)
	}
}
