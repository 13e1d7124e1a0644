package conf

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"
)

// verifiedTTL is how long a successful login is remembered. A client opens
// several connections per node (a mount, parallel transfers); each would
// otherwise pay a full argon2 check. Only successes are remembered, keyed by
// a keyed hash of (stored hash, password), so a password change or a wrong
// password always goes through argon2.
const verifiedTTL = 10 * time.Minute

// UserDB checks logins against a node's dfs.conf and follows edits of the
// file without a restart. It is what a node takes as its accounts
// (node.Accounts).
type UserDB struct {
	path string

	mu    sync.Mutex  // guards the fields below
	users *Users      // last set that parsed
	stat  os.FileInfo // of the file last read (good or bad), to notice changes
	err   error       // error of the last reload, nil if it was good

	dummy  string                                    // hash checked for unknown users; set once by OpenUserDB
	verify func(hash, password string) (bool, error) // VerifyPassword; tests count the calls

	cacheKey [32]byte             // random per process: the cache is useless outside it
	verified map[string]time.Time // HMAC(cacheKey, hash, password) -> when verified; guarded by mu
	checking map[string]*check    // the same key -> the argon2 check in flight; guarded by mu
}

// check is one argon2 check that concurrent logins with the same
// credentials wait for instead of each running their own (a mount opens
// several connections per node at once; under load each check takes
// seconds, and the queue behind them outlasts the client's login timeout).
type check struct {
	done chan struct{}
	good bool // set before done closes
}

// OpenUserDB reads the dfs.conf at path, which must exist and parse.
func OpenUserDB(path string) (*UserDB, error) {
	db := &UserDB{path: path}
	db.reload()
	if db.err != nil {
		return nil, db.err
	}
	db.dummy = dummyHash()
	db.verify = VerifyPassword
	db.verified = map[string]time.Time{}
	db.checking = map[string]*check{}
	if _, err := rand.Read(db.cacheKey[:]); err != nil {
		return nil, err
	}
	return db, nil
}

// Check reports whether password is right for user. It first reloads the
// file if its size, mtime or inode changed; a reload that fails keeps the
// last good users (see Err). For an unknown user it still verifies password
// against a dummy hash, so that timing does not tell whether the name exists.
func (db *UserDB) Check(user, password string) bool {
	db.mu.Lock()
	db.reload()
	hash, ok := db.users.Hash(user)
	db.mu.Unlock()
	if !ok {
		hash = db.dummy
	}
	key := db.verifiedKey(hash, password)
	db.mu.Lock()
	at, seen := db.verified[key]
	if ok && seen && time.Since(at) < verifiedTTL {
		db.mu.Unlock()
		return true
	}
	if c := db.checking[key]; c != nil {
		db.mu.Unlock()
		<-c.done
		return ok && c.good
	}
	c := &check{done: make(chan struct{})}
	db.checking[key] = c
	db.mu.Unlock()
	good, err := db.verify(hash, password)
	c.good = err == nil && good
	db.mu.Lock()
	delete(db.checking, key)
	if ok && c.good {
		if len(db.verified) > 10000 {
			clear(db.verified)
		}
		db.verified[key] = time.Now()
	}
	db.mu.Unlock()
	close(c.done)
	return ok && c.good
}

// Quota returns the user's quota (Users.Quota), from the file as it is now:
// a node follows quota changes as it follows password changes.
func (db *UserDB) Quota(user string) int64 {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.reload()
	return db.users.Quota(user)
}

// SetPassword changes user's password in the file (an atomic edit, see
// the package function SetPassword); the next Check reads it back.
func (db *UserDB) SetPassword(user, password string) error {
	return SetPassword(db.path, user, password)
}

func (db *UserDB) verifiedKey(hash, password string) string {
	m := hmac.New(sha256.New, db.cacheKey[:])
	m.Write([]byte(hash))
	m.Write([]byte{0})
	m.Write([]byte(password))
	return string(m.Sum(nil))
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

// dummyHash hashes a random password that nobody knows. If even that fails
// the fixed string still makes VerifyPassword fail (fast, but that cannot
// happen short of a broken random source).
func dummyHash() string {
	var b [16]byte
	rand.Read(b[:])
	h, err := HashPassword(hex.EncodeToString(b[:]))
	if err != nil {
		return HashPrefix
	}
	return h
}
