package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"dfs/core"
)

// Names inside a user's folder (DIR/users/<user>); segmentsDir, for the
// chunk files of stored segments, is in segments.go.
const (
	filesDir      = "files"
	stagingDir    = "staging"
	quarantineDir = "quarantine"
	metaName      = "@meta"
	usersDir      = "users"
)

// ErrSymlink is returned when a path runs into a symlink (or another
// non-directory) planted in the data folder: it is refused, never followed.
var ErrSymlink = errors.New("refusing a symlink or special file in the data folder")

// Refusal is a change the store refuses to apply: Err is the core error
// saying why (core.ErrStale, ErrExist, ErrNotDir, ErrIsDir, ErrNotEmpty,
// ErrNotFound, ErrIncomplete, ErrBusy, ErrNoSpace, ErrUnknownUpdate or
// ErrBadMeta),
// Msg tells the client.
type Refusal struct {
	Err error
	Msg string
}

func (r *Refusal) Error() string { return r.Msg }
func (r *Refusal) Unwrap() error { return r.Err }

func refuse(err error, format string, args ...any) error {
	return &Refusal{Err: err, Msg: fmt.Sprintf(format, args...)}
}

// ErrUnknownUpdate refuses an update whose kind the store does not know.
var ErrUnknownUpdate = errors.New("unknown update")

// ErrBadMeta refuses a meta the store cannot keep as it is (a segment id
// listed twice).
var ErrBadMeta = errors.New("bad meta")

// UserDir is one user's folder, opened as a tree (see tree.go) so that no
// name can leave it. A running node keeps one per user, shared by the
// user's connections (Store.User); recovery and an offline scrub open their
// own, without a flusher.
type UserDir struct {
	user  string
	root  *tree
	log   *slog.Logger
	mu    sync.Mutex // serializes namespace changes of this user
	cache *metaCache // the user's entries as last written or read
	fl    *flusher   // nil: every write is made durable before it returns (offline tools)
	old   *oldChunks // inline chunks of replaced versions kept for their readers (gc.go); nil offline
	segs  *segIndex  // the user's stored segments (segindex.go); empty offline
	up    *uploads   // uploads waiting for their commit; nil offline
	bufs  *outPool   // chunk uploads' write buffers; nil offline
	usage *usage     // what the user holds on this disk (usage.go); nil offline

	// Guarded by mu: the entries whose @meta.new waits for a flush, with
	// a sequence number of its last write (the flusher promotes only the
	// write it made durable).
	pending map[string]uint64
	seq     uint64
}

// openUserDir makes (on first use) and opens DIR/users/<user>. With fl nil,
// writes are durable when they return.
func openUserDir(dir, user string, fl *flusher, log *slog.Logger) (*UserDir, error) {
	if !ValidUser(user) {
		return nil, fmt.Errorf("invalid user name %q", user)
	}
	ud := filepath.Join(dir, usersDir, user)
	for _, d := range []string{filepath.Join(dir, usersDir), ud} {
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		fi, err := os.Lstat(d)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("%s: %w", d, ErrSymlink)
		}
	}
	root, err := openTree(ud)
	if err != nil {
		return nil, err
	}
	u := &UserDir{user: user, root: root, log: log, cache: newMetaCache(), fl: fl, segs: newSegIndex(), pending: map[string]uint64{}}
	for _, d := range []string{filesDir, segmentsDir, stagingDir, quarantineDir} {
		if err := root.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			root.Close()
			return nil, err
		}
		if _, err := u.statDir(d); err != nil {
			root.Close()
			return nil, err
		}
	}
	return u, nil
}

func (u *UserDir) close() error { return u.root.Close() }

// ValidUser reports whether a user name can name a folder.
func ValidUser(user string) bool {
	c, err := core.CleanName(user)
	return err == nil && c == user && user != "" && !strings.Contains(user, "/") && !strings.HasPrefix(user, ".")
}

// escapeComponent stores a component starting with "@" with one more "@", so
// it never collides with the node's own "@meta" names.
func escapeComponent(c string) string {
	if strings.HasPrefix(c, "@") {
		return "@" + c
	}
	return c
}

// unescapeComponent returns the user component stored as name, or false for
// the node's own files.
func unescapeComponent(name string) (string, bool) {
	if strings.HasPrefix(name, "@@") {
		return name[1:], true
	}
	if strings.HasPrefix(name, "@") {
		return "", false
	}
	return name, true
}

// statDir reports whether rel exists as a real directory; a symlink or any
// other kind of file there is ErrSymlink.
func (u *UserDir) statDir(rel string) (bool, error) {
	fi, err := u.root.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("%s: %w", rel, ErrSymlink)
	}
	return true, nil
}

// statFile reports whether rel exists as a regular file (ErrSymlink for
// anything else).
func (u *UserDir) statFile(rel string) (bool, error) {
	fi, err := u.root.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("%s: %w", rel, ErrSymlink)
	}
	return true, nil
}

// syncDir makes the names in directory rel durable: now without a
// flusher, else with the next flush.
func (u *UserDir) syncDir(rel string) error {
	if u.fl != nil {
		u.fl.addDir(u, rel)
		return nil
	}
	f, err := u.root.Open(rel)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// syncFile makes the data written to f durable and closes it: now without a
// flusher, else with the next flush.
func (u *UserDir) syncFile(f *os.File) error {
	if u.fl != nil {
		u.fl.addFile(f)
		return nil
	}
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeAll removes the directory rel with everything under it: the
// segments its files list lose a reference, and their inline chunks leave
// the user's use.
func (u *UserDir) removeAll(rel string) error {
	ids, inline := u.treeRefs(rel)
	err := u.root.RemoveAll(rel)
	if err != nil {
		// Halfway: what is left keeps its references.
		left, leftInline := u.treeRefs(rel)
		u.segs.ref(left)
		inline -= leftInline
	}
	u.segs.unref(ids, time.Now())
	u.count(-inline)
	u.cache.dropTree(rel)
	for p := range u.pending {
		if _, ok := underRel(p, rel, ""); ok {
			delete(u.pending, p)
		}
	}
	return err
}

// moveDir moves the entry directory from to to (which must not exist).
func (u *UserDir) moveDir(from, to string) error {
	err := u.root.Rename(from, to)
	u.cache.dropTree(from)
	u.cache.dropTree(to)
	if err == nil && u.fl != nil {
		moved := map[string]uint64{}
		for p, seq := range u.pending {
			if r, ok := underRel(p, from, to); ok {
				delete(u.pending, p)
				moved[r] = seq
			}
		}
		maps.Copy(u.pending, moved)
		u.fl.moved(u, from, to)
	}
	return err
}

// wrote notes a new @meta.new of rel for the flusher.
func (u *UserDir) wrote(rel string) {
	u.seq++
	u.pending[rel] = u.seq
	u.fl.addMeta(u, rel, u.seq)
	u.fl.addDir(u, rel)
}

// mkdir creates the directory rel; an existing real directory is fine.
func (u *UserDir) mkdir(rel string) error {
	err := u.root.Mkdir(rel, 0o700)
	if errors.Is(err, fs.ErrExist) {
		_, err = u.statDir(rel)
		return err
	}
	if err != nil {
		return err
	}
	u.cache.set(rel, nil, 0)
	// The new directory's name must survive a power loss with what goes
	// into it.
	return u.syncDir(path.Dir(rel))
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
