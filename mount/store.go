package mount

import (
	"context"
	"dfs/core/client"
	"io"
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
	Put(ctx context.Context, name string, r io.ReaderAt, size int64, opt client.PutOptions) (client.PutResult, error)
	Mkdir(ctx context.Context, name string, mode os.FileMode) (client.Entry, error)
	Rmdir(ctx context.Context, name string) error
	Remove(ctx context.Context, name string) error
	Rename(ctx context.Context, from, to string) error
	SetAttr(ctx context.Context, name string, mode *os.FileMode, mtime *time.Time) (client.Entry, error)
	StatFS(ctx context.Context) (client.FSStats, error)
	Sync(ctx context.Context) error
}

var _ Store = (*client.Client)(nil)

// fsys is what every node of one mount shares.
type fsys struct {
	store    Store
	opts     Options
	uid, gid uint32
	started  time.Time // the top folder's times
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
	sys := &fsys{store: uninterruptible{watched{store, opts.Health}}, opts: opts, uid: uint32(os.Getuid()), gid: uint32(os.Getgid()), started: time.Now()}
	return &Dir{node: node{sys: sys}}
}

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
