package mount

import (
	"context"
	"dfs/core/client"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
)

// Store is what the mount needs from the dfs client; *client.Client
// implements it. Names are paths relative to the user's top folder.
type Store interface {
	CacheListings(ttl time.Duration)
	Stat(ctx context.Context, name string) (client.Entry, error)
	ReadDir(ctx context.Context, dir string) ([]client.Entry, error)
	Open(ctx context.Context, name string) (*client.File, error)
	NewDraft(name string, base *client.File) *client.Draft
	MkdirAs(ctx context.Context, name string, mode, uid, gid uint32) (client.Entry, error)
	Symlink(ctx context.Context, name, target string, uid, gid uint32) (client.Entry, error)
	Mknod(ctx context.Context, name string, mode, uid, gid uint32) (client.Entry, error)
	Rmdir(ctx context.Context, name string) error
	Remove(ctx context.Context, name string) error
	Rename(ctx context.Context, from, to string) error
	SetAttrs(ctx context.Context, name string, a client.Attrs) (client.Entry, error)
	StatFS(ctx context.Context) (client.FSStats, error)
	Sync(ctx context.Context) error
}

var _ Store = (*client.Client)(nil)

// fsys is what every node of one mount shares.
type fsys struct {
	store    Store
	drafts   func(name string, base *client.File) draft // the store's NewDraft
	opts     Options
	uid, gid uint32        // the mounting user's: the top folder's owner
	started  time.Time     // the top folder's times
	gen      atomic.Uint64 // the last inode generation given (see newInode)
	errs     errLog

	xattrCalls atomic.Int64 // extended attribute requests that reached the mount (tests)
}

// NewRoot returns the top folder of a mount of store. It turns on the
// store's listing cache for the entry timeout: the kernel keeps entries
// that long anyway, and `ls -l` then costs one listing, not one lookup per
// name.
func NewRoot(store Store, opts Options) fs.InodeEmbedder {
	opts = opts.withDefaults()
	store.CacheListings(opts.EntryTimeout)
	opts.Health.watchForged(store)
	sys := &fsys{store: uninterruptible{store}, opts: opts, uid: uint32(os.Getuid()), gid: uint32(os.Getgid()), started: time.Now()}
	drafts := func(name string, base *client.File) draft { return store.NewDraft(name, base) }
	if d, ok := store.(drafter); ok { // a test's store, counting what the mount stores
		drafts = d.draft
	}
	sys.drafts = func(name string, base *client.File) draft { return watched{drafts(name, base), opts.Health} }
	return &Dir{node: node{sys: sys}}
}

// drafter is implemented by tests' stores that wrap the drafts.
type drafter interface {
	draft(name string, base *client.File) draft
}

// newDraft starts the next version of name on base (nil: new content).
func (s *fsys) newDraft(name string, base *client.File) draft { return s.drafts(name, base) }

// node is the part files and folders share.
type node struct {
	fs.Inode
	sys *fsys
}

// path returns the node's name relative to the top folder; ok is false when
// the node was removed (or replaced by a rename).
func (n *node) path() (p string, ok bool) {
	var parts []string
	in := n.EmbeddedInode()
	for !in.IsRoot() {
		name, parent := in.Parent()
		if parent == nil {
			return "", false
		}
		parts = append(parts, name)
		in = parent
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, "/"), true
}
