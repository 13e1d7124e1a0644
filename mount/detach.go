package mount

import (
	"context"
	"dfs/core/client"
	"time"
)

// uninterruptible is the Store every FUSE method talks to: it runs each
// call on a context that the kernel's INTERRUPT does not cancel.
//
// The kernel sends INTERRUPT when the caller of a syscall gets any signal it
// does not ignore: every Go program gets SIGURG (goroutine preemption),
// shells get SIGCHLD, editors SIGWINCH, timers SIGALRM. go-fuse cancels the
// request's context then. Abandoning the request would fail close(2) or
// fsync(2) with EINTR after part of a put, and most programs (Go's
// os.File.Close among them) take that as "not saved". A local disk never
// fails a file operation with EINTR, so neither does the mount: a request,
// once started, finishes or fails on the client's own timeouts. A fatal
// signal (Ctrl-C on cat) still ends the caller at once: the kernel stops
// waiting for the answer, which is then dropped.
type uninterruptible struct{ s Store }

var _ Store = uninterruptible{}

func detach(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

func (u uninterruptible) CacheListings(ttl time.Duration) { u.s.CacheListings(ttl) }

func (u uninterruptible) Stat(ctx context.Context, name string) (client.Entry, error) {
	return u.s.Stat(detach(ctx), name)
}

func (u uninterruptible) ReadDir(ctx context.Context, dir string) ([]client.Entry, error) {
	return u.s.ReadDir(detach(ctx), dir)
}

func (u uninterruptible) Open(ctx context.Context, name string) (*client.File, error) {
	return u.s.Open(detach(ctx), name)
}

// NewDraft makes no request: the spool passes detached contexts to the
// draft's methods.
func (u uninterruptible) NewDraft(name string, base *client.File) *client.Draft {
	return u.s.NewDraft(name, base)
}

func (u uninterruptible) MkdirAs(ctx context.Context, name string, mode, uid, gid uint32) (client.Entry, error) {
	return u.s.MkdirAs(detach(ctx), name, mode, uid, gid)
}

func (u uninterruptible) Symlink(ctx context.Context, name, target string, uid, gid uint32) (client.Entry, error) {
	return u.s.Symlink(detach(ctx), name, target, uid, gid)
}

func (u uninterruptible) Mknod(ctx context.Context, name string, mode, uid, gid uint32) (client.Entry, error) {
	return u.s.Mknod(detach(ctx), name, mode, uid, gid)
}

func (u uninterruptible) Rmdir(ctx context.Context, name string) error {
	return u.s.Rmdir(detach(ctx), name)
}

func (u uninterruptible) Remove(ctx context.Context, name string) error {
	return u.s.Remove(detach(ctx), name)
}

func (u uninterruptible) Rename(ctx context.Context, from, to string) error {
	return u.s.Rename(detach(ctx), from, to)
}

func (u uninterruptible) SetAttrs(ctx context.Context, name string, a client.Attrs) (client.Entry, error) {
	return u.s.SetAttrs(detach(ctx), name, a)
}

func (u uninterruptible) StatFS(ctx context.Context) (client.FSStats, error) {
	return u.s.StatFS(detach(ctx))
}

func (u uninterruptible) Sync(ctx context.Context) error { return u.s.Sync(detach(ctx)) }
