package store

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Config configures a Store.
type Config struct {
	Dir        string        // the data folder (created if missing)
	Log        *slog.Logger  // nil = discard
	FlushDelay time.Duration // default DefaultFlushDelay: how long an applied change may wait to be written to disk
	Budget     Budget        // what each user's uploads waiting for their commit may hold (budget.go)
}

// Store is a node's data folder while the node runs (docs/format.md): the
// users' folders, opened on first use and shared by each user's
// connections, the flusher that makes their writes durable in batches, and
// what the node keeps in memory beside them: inline chunks waiting for
// their commit and those of replaced versions still served for a grace
// period.
type Store struct {
	dir    string
	log    *slog.Logger
	fl     *flusher  // group commit of every user's writes
	old    oldChunks // inline chunks of replaced versions still served for a grace period
	budget Budget    // each user's uploads', defaults filled in
	mem    memPool   // the node's memory for small chunks waiting for their commit
	bufs   *outPool  // chunk uploads' aligned write buffers

	mu     sync.Mutex // guards the fields below
	closed bool
	users  map[string]*UserDir
	// What recovery learnt of each user (their segments, the bytes their
	// records keep inline), until the user's folder opens and takes it.
	recovered map[string]recovered
	// Users whose folder recovery could not read (recoverUser's error):
	// refused until a login finds it readable.
	unrecovered map[string]error
}

// ErrNotRecovered refuses a user whose folder the node could not recover
// (read through) at start nor since: serving them from an empty index
// would show nothing held and count no use.
var ErrNotRecovered = errors.New("the user's folder on this node could not be recovered")

// Open checks the data folder's format (format.go: a new folder gets it,
// one of another format is refused with ErrFormat) and recovers every
// user's folder from the last stop (recover.go), removing the uploads it
// left, before it returns, so the node serves a consistent store.
func Open(cfg Config) (*Store, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := checkFormat(cfg.Dir, true); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, usersDir), 0o700); err != nil {
		return nil, fmt.Errorf("make data folder: %w", err)
	}
	st := &Store{dir: cfg.Dir, log: cfg.Log, budget: cfg.Budget.withDefaults(), bufs: newOutPool(), users: map[string]*UserDir{},
		recovered: map[string]recovered{}, unrecovered: map[string]error{}}
	st.mem.max = nodeMemory
	if err := st.recoverAll(); err != nil {
		return nil, err
	}
	st.fl = newFlusher(cfg.Dir, cfg.FlushDelay, cfg.Log)
	return st, nil
}

// User returns the user's folder, opening it on first use. A user whose
// folder recovery could not read at start is recovered now, or refused
// (ErrNotRecovered) while it still cannot be.
func (st *Store) User(user string) (*UserDir, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return nil, errors.New("node is shutting down")
	}
	if u := st.users[user]; u != nil {
		return u, nil
	}
	if first, ok := st.unrecovered[user]; ok {
		// The user's folder is not open: no request of theirs runs
		// during the walk.
		rec, err := st.recoverUser(user)
		if err != nil {
			return nil, fmt.Errorf("%w: %v (at start: %v)", ErrNotRecovered, err, first)
		}
		delete(st.unrecovered, user)
		st.recovered[user] = rec
		st.log.Info("recovery: the user's folder is readable again and is served", "user", user)
	}
	u, err := openUserDir(st.dir, user, st.fl, st.log)
	if err != nil {
		return nil, err
	}
	u.old, u.bufs = &st.old, st.bufs
	u.up = newUploads(u, &st.budget, &st.mem)
	if rec, ok := st.recovered[user]; ok {
		u.segs = rec.segs
		u.usage = &usage{inline: rec.inline} // nothing staged: recovery removed every upload
	} else {
		u.usage = &usage{} // a new user
	}
	delete(st.recovered, user)
	st.users[user] = u
	return u, nil
}

// Sync waits until every change applied before the call is on the disk.
func (st *Store) Sync() error { return st.fl.sync() }

// Close writes what was applied to disk and closes the users' folders.
func (st *Store) Close() {
	st.fl.close()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.closed = true
	for _, u := range st.users {
		u.close()
	}
	st.users = nil
}

// openUsers returns the users' folders opened so far.
func (st *Store) openUsers() []*UserDir {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]*UserDir, 0, len(st.users))
	for _, u := range st.users {
		out = append(out, u)
	}
	return out
}

// QuarantineCount counts the files in every user's quarantine folder.
func (st *Store) QuarantineCount() int {
	users, _ := os.ReadDir(filepath.Join(st.dir, usersDir))
	n := 0
	for _, u := range users {
		if !u.IsDir() {
			continue
		}
		q, _ := os.ReadDir(filepath.Join(st.dir, usersDir, u.Name(), quarantineDir))
		n += len(q)
	}
	return n
}
