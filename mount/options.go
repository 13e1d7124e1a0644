package mount

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Options configure the mounted file system.
type Options struct {
	CacheDir     string        // where spools live (unlinked temp files); default os.TempDir()
	AttrTimeout  time.Duration // how long the kernel caches attributes; default 1s
	EntryTimeout time.Duration // how long the kernel caches names; default 1s
	Log          *slog.Logger  // unexpected errors; default discards
	Health       *Health       // the cluster's health as the status file shows it; default a new one

	// The kernel's side of the mount (dfsmount's -o options).
	ReadOnly           bool // ro: the kernel refuses every change with EROFS
	AllowOther         bool // allow_other: other users may use the mount (non-root: user_allow_other in /etc/fuse.conf)
	DefaultPermissions bool // default_permissions: the kernel checks the mode bits for every access
	NoExec             bool // noexec: no program runs from the mount

	// Checkpoint is how long segments of a file open for writing may stay
	// stored on the nodes but not committed before the mount commits the
	// file on its own (checkpoint.go); default 30s.
	Checkpoint time.Duration
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.CacheDir == "" {
		o.CacheDir = os.TempDir()
	}
	if o.AttrTimeout <= 0 {
		o.AttrTimeout = time.Second
	}
	if o.EntryTimeout <= 0 {
		o.EntryTimeout = time.Second
	}
	if o.Checkpoint <= 0 {
		o.Checkpoint = defaultCheckpoint
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Health == nil {
		o.Health = NewHealth(o.Log)
	}
	return o
}

// kernelOptions are the -o strings for the kernel (and fusermount3): "ro"
// is a flag the kernel also takes in the options string; go-fuse turns
// noexec into MS_NOEXEC for a direct mount.
func (o Options) kernelOptions() []string {
	var s []string
	if o.ReadOnly {
		s = append(s, "ro")
	}
	if o.DefaultPermissions {
		s = append(s, "default_permissions")
	}
	if o.NoExec {
		s = append(s, "noexec")
	}
	return s
}

// maxWrite is the largest write the kernel sends.
const maxWrite = 1 << 20

// negativeTimeout is how long the kernel remembers that a name is absent:
// short, because other clients create files too.
const negativeTimeout = 100 * time.Millisecond

// MountOptions returns the go-fuse options for a dfs mount: 1 MiB writes and
// read-ahead, no writeback cache (writes reach the spool at once), timeouts
// from opts, and a direct mount(2) when running as root (go-fuse falls back
// to fusermount3 when that fails).
func MountOptions(opts Options, debug bool) *fs.Options {
	opts = opts.withDefaults()
	neg := negativeTimeout
	return &fs.Options{
		MountOptions: fuse.MountOptions{
			MaxWrite:      maxWrite,
			MaxReadAhead:  readAheadKB << 10,
			FsName:        "dfs",
			Name:          "dfs",
			DirectMount:   os.Geteuid() == 0,
			Debug:         debug,
			DisableSplice: true, // reads are served from memory; splicing only logs that 1 MiB does not fit a pipe
			AllowOther:    opts.AllowOther,
			Options:       opts.kernelOptions(),
		},
		EntryTimeout:    &opts.EntryTimeout,
		AttrTimeout:     &opts.AttrTimeout,
		NegativeTimeout: &neg,
		// Modes, owners and groups are the stored ones, shown as they
		// are: mode 0 stays 0 (go-fuse would show 0644), uid 0 stays
		// root (go-fuse would show the mounting user).
		NullPermissions: true,
	}
}

// Mount mounts store at mountpoint and returns the running server; call
// Unmount (or Wait) on it.
func Mount(mountpoint string, store Store, opts Options, debug bool) (*fuse.Server, error) {
	return mountRoot(mountpoint, NewRoot(store, opts), opts, debug)
}

// readAheadKB is the kernel read-ahead asked for: the largest read request
// (maxWrite), so that a sequential reader's requests are 1 MiB.
const readAheadKB = maxWrite >> 10

// mountRoot mounts root and, when allowed (root), raises the kernel's
// read-ahead for it to readAheadKB.
func mountRoot(mountpoint string, root fs.InodeEmbedder, opts Options, debug bool) (*fuse.Server, error) {
	srv, err := fs.Mount(mountpoint, root, MountOptions(opts, debug))
	if err != nil {
		return nil, err
	}
	if err := raiseReadAhead(mountpoint, readAheadKB); err != nil {
		opts.withDefaults().Log.Debug("kernel read-ahead left at its default", "err", err)
	}
	return srv, nil
}
