package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LockFile is the file in a data folder that the process serving or
// scrubbing it holds an exclusive flock on.
const LockFile = "dfsnode.lock"

// ErrLocked is LockDir's error when another process holds the data folder.
var ErrLocked = errors.New("data folder in use")

// LockDir takes the data folder for this process: an exclusive, non-blocking
// flock on DIR/dfsnode.lock (made 0600 if missing, with the folder), so that
// a second dfsnode, or `dfsnode scrub`, on a live folder is refused instead of
// writing beside the node that owns it. The lock goes with the process, so a
// killed node leaves nothing to clean up; the file keeps the holder's pid for
// the message. unlock releases it.
func LockDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		holder := "another process"
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				holder = fmt.Sprintf("process %d", pid)
			}
		}
		f.Close()
		return nil, fmt.Errorf("%s: %w by %s (a running dfsnode?); stop it first", dir, ErrLocked, holder)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The pid is only for the message above: the flock is the lock.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}
