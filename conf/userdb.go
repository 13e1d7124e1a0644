package conf

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"sync"

	"dfs/core/crypt"
)

// UserDB checks logins against a node's dfs.conf and follows edits of the
// file without a restart. It is what a node takes as its accounts
// (node.Accounts).
type UserDB struct {
	path  string
	dummy string // a verifier nobody can log in with, checked for unknown users

	mu    sync.Mutex  // guards the fields below
	users *Users      // last set that parsed
	stat  os.FileInfo // of the file last read (good or bad), to notice changes
	err   error       // error of the last reload, nil if it was good
}

// OpenUserDB reads the dfs.conf at path, which must exist and parse.
func OpenUserDB(path string) (*UserDB, error) {
	db := &UserDB{path: path, dummy: dummyLogin()}
	db.reload()
	if db.err != nil {
		return nil, db.err
	}
	return db, nil
}

// Check reports whether proof logs user in on the connection whose binding
// is given (crypt.VerifyLogin against the user's verifier). It first
// reloads the file if its size, mtime or inode changed; a reload that
// fails keeps the last good users (see Err). For an unknown user it still
// verifies proof against a dummy verifier, so that timing does not tell
// whether the name exists. A user whose line predates the verifiers cannot
// log in at all: the error says so, for the client and the node's log.
func (db *UserDB) Check(user string, binding []byte, proof string) (bool, error) {
	db.mu.Lock()
	db.reload()
	login, ok := db.users.Login(user)
	db.mu.Unlock()
	if ok && strings.HasPrefix(login, oldHashPrefix) {
		return false, fmt.Errorf("user %s's password entry predates end-to-end keys: set it again with dfsnode user passwd", user)
	}
	if !ok {
		login = db.dummy
	}
	good := crypt.VerifyLogin(login, user, binding, proof)
	return ok && good, nil
}

// Quota returns the user's quota (Users.Quota), from the file as it is now:
// a node follows quota changes as it follows password changes.
func (db *UserDB) Quota(user string) int64 {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.reload()
	return db.users.Quota(user)
}

// SetLogin changes user's login verifier in the file (an atomic edit, see
// the package function SetLogin); the next Check reads it back.
func (db *UserDB) SetLogin(user, login string) error {
	return SetLogin(db.path, user, login)
}

// Err returns the error of the last reload of the file, or nil if the users
// in use are the file's current content.
func (db *UserDB) Err() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.reload()
	return db.err
}

// Users returns the users in use (the last good parse of the file).
func (db *UserDB) Users() *Users {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.reload()
	return db.users
}

// reload rereads the file if it changed since the last read; db.mu is held
// (or db is not shared yet).
func (db *UserDB) reload() {
	st, err := os.Stat(db.path)
	if err != nil {
		db.err = fmt.Errorf("server conf: %w", err)
		db.stat = nil
		return
	}
	if db.stat != nil && os.SameFile(st, db.stat) && st.Size() == db.stat.Size() && st.ModTime().Equal(db.stat.ModTime()) {
		return
	}
	// Remember st (taken before the read) even if the parse fails, so a
	// broken file is parsed once, not on every login; a later edit changes
	// the stat again.
	db.stat = st
	data, err := os.ReadFile(db.path)
	if err != nil {
		db.err = fmt.Errorf("read server conf: %w", err)
		return
	}
	users, err := ParseServer(db.path, data)
	if err != nil {
		db.err = err
		return
	}
	db.users, db.err = users, nil
}

// dummyLogin is a verifier whose private half nobody keeps: a proof
// checked against it costs what one checked against a user's does, and
// never verifies.
func dummyLogin() string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // the random source failed
	}
	return crypt.LoginPrefix + base64.RawStdEncoding.EncodeToString(pub)
}
