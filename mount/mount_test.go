//go:build linux

package mount

import (
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/posixtest"

	"dfs/core/client"
	"dfs/internal/testcluster"
)

// skipNoFuse skips (or, with DFS_REQUIRE_FUSE=1, fails) a test that cannot
// mount here.
func skipNoFuse(t *testing.T, why string, args ...any) {
	t.Helper()
	if os.Getenv("DFS_REQUIRE_FUSE") == "1" {
		t.Fatalf("FUSE required (DFS_REQUIRE_FUSE=1) but "+why, args...)
	}
	t.Skipf("skipping FUSE test: "+why, args...)
}

// mountT mounts store under a temporary folder and unmounts it when the
// test ends. Set DFS_FUSE_DEBUG=1 for go-fuse's request log.
func mountT(t *testing.T, store Store) string {
	t.Helper()
	return mountOptsT(t, store, testOptions(t))
}

// mountOptsT is mountT with options of the test's own.
func mountOptsT(t *testing.T, store Store, opts Options) string {
	t.Helper()
	return mountRootT(t, NewRoot(store, opts), opts)
}

func testOptions(t *testing.T) Options {
	return Options{
		CacheDir: t.TempDir(),
		Log:      slog.New(slog.NewTextHandler(testLog{t}, nil)),
	}
}

// mountRootT mounts root like mountT, with the options root was made with.
func mountRootT(t *testing.T, root fs.InodeEmbedder, opts Options) string {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		skipNoFuse(t, "/dev/fuse is missing: %v", err)
	}
	mp := t.TempDir()
	srv, err := mountRoot(mp, root, opts, os.Getenv("DFS_FUSE_DEBUG") == "1")
	if err != nil {
		skipNoFuse(t, "mounting is not permitted here: %v", err)
	}
	t.Cleanup(func() {
		for i := 0; ; i++ {
			err := srv.Unmount()
			if err == nil {
				return
			}
			if i == 50 {
				t.Errorf("unmount %s: %v", mp, err)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return mp
}

// eventually retries check until it succeeds, failing the test with what
// and check's last error after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// testLog sends the mount's log to the test log.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	defer func() { recover() }() // a line logged after the test ended
	w.t.Log(string(p))
	return len(p), nil
}

// setup starts a cluster and mounts alice's files.
func setup(t *testing.T) (*testcluster.Cluster, *client.Client, string) {
	t.Helper()
	c := testcluster.Start(t)
	cl := c.Client(t, "alice", "Crimson33")
	return c, cl, mountT(t, cl)
}

// posixSkip lists the posixtest cases left out, each with the reason.
var posixSkip = map[string]string{
	"Link":             "dfs has no hard links (link(2) is EPERM by design)",
	"LinkUnlinkRename": "dfs has no hard links",
	"SymlinkReadlink":  "dfs has no symbolic links (symlink(2) is EPERM by design)",
	"SetattrSymlink":   "dfs has no symbolic links",
	"OpenSymlinkRace":  "dfs has no symbolic links",
	"XAttr":            "dfs has no extended attributes (ENOSYS, so the kernel stops asking; see xattr.go)",
	"XAttrLarge":       "dfs has no extended attributes",
	// Locks are kept by the kernel (local to this machine, per process as
	// POSIX says); this case expects a second fd of the same process to
	// conflict, which needs a lock manager in the file system.
	"FcntlFlockLocksFile": "locks are the kernel's local POSIX locks; the same process does not conflict with itself",
	"Tmpfile":             "O_TMPFILE needs an unnamed file, which dfs cannot store",
	"LseekHoleSeeksToEOF": "SEEK_HOLE/SEEK_DATA are not implemented",
	"LseekEnxioCheck":     "SEEK_HOLE/SEEK_DATA are not implemented",
	"FdLeak":              "run alone by TestPosixFdLeak: it counts the process's open files, which the other tests running at the same time change",
}

// TestPosixFdLeak runs posixtest's FdLeak while no other test runs (it is
// not parallel, so it runs before the parallel ones start), on a mount
// already in use, as in TestPosix: its connections and the nodes' folders
// are open.
func TestPosixFdLeak(t *testing.T) {
	_, _, mp := setup(t)
	dir := filepath.Join(mp, "FdLeak")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := os.WriteFile(filepath.Join(dir, "warm"), []byte("up"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := os.ReadFile(filepath.Join(dir, "warm")); err != nil {
			t.Fatal(err)
		}
	}
	posixtest.FdLeak(t, dir)
}

func TestPosix(t *testing.T) {
	t.Parallel()
	_, _, mp := setup(t)
	names := make([]string, 0, len(posixtest.All))
	for name := range posixtest.All {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each case has its own folder
			if why, ok := posixSkip[name]; ok {
				t.Skip(why)
			}
			dir := filepath.Join(mp, name)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			posixtest.All[name](t, dir)
		})
	}
}
