package crypt

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// The argon2id parameters of the user's root key. They are fixed: a second
// machine with only the user's name and password must derive the same key.
// 64 MiB and 3 passes take about 0.15 s on one core of the test machine,
// the cost of each guess of someone holding a copy of a node's dfs.conf or
// wrapped key.
const (
	kdfTime    = 3
	kdfMemory  = 64 << 10 // KiB
	kdfThreads = 4
)

// Root is the key a client derives from the user's password. It never
// leaves the client: nodes get login proofs made with it and keep a master
// key wrapped by it.
type Root struct {
	login ed25519.PrivateKey
	wrap  []byte // AES-256 key wrapping the master key
}

var roots sync.Map // rootKey -> *Root: a process derives each password's root once

type rootKey struct{ user, password string }

// DeriveRoot derives the user's root key from the password: argon2id with
// a salt made from the user name (the salt must be known before any node
// answers, as a login proof needs the key). It is slow by design, so a
// process keeps what it derived.
func DeriveRoot(user, password string) *Root {
	k := rootKey{user, password}
	if r, ok := roots.Load(k); ok {
		return r.(*Root)
	}
	salt := sha256.Sum256([]byte("dfs user salt v1\x00" + user))
	secret := argon2.IDKey([]byte(password), salt[:], kdfTime, kdfMemory, kdfThreads, 32)
	// The 64 MiB argon2 worked in are garbage now: hand them back to the
	// system at once, or a long-lived client (dfsmount) would keep them
	// resident for minutes, more than everything else it holds.
	debug.FreeOSMemory()
	r := &Root{
		login: ed25519.NewKeyFromSeed(derive(secret, "dfs login v1", 32)),
		wrap:  derive(secret, "dfs wrap v1", 32),
	}
	r2, _ := roots.LoadOrStore(k, r)
	return r2.(*Root)
}

// derive expands a secret into a key for one purpose (HKDF-SHA256).
func derive(secret []byte, purpose string, n int) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, purpose, n)
	if err != nil {
		panic(err) // only for lengths HKDF cannot give
	}
	return k
}

// LoginPrefix starts a login verifier as dfs.conf stores it.
const LoginPrefix = "ed25519:"

// Login returns the verifier a node keeps for this root: the public half of
// the login key, "ed25519:<base64>". It tells a node nothing about the
// master key, and lets it check proofs, never make them.
func (r *Root) Login() string {
	return LoginPrefix + base64.RawStdEncoding.EncodeToString(r.login.Public().(ed25519.PublicKey))
}

// LoginFor is DeriveRoot(user, password).Login().
func LoginFor(user, password string) string { return DeriveRoot(user, password).Login() }

// ParseLogin decodes a verifier written by Login.
func ParseLogin(s string) (ed25519.PublicKey, error) {
	b, ok := strings.CutPrefix(s, LoginPrefix)
	if !ok {
		return nil, fmt.Errorf("not a dfs login verifier (want %s<base64>)", LoginPrefix)
	}
	k, err := base64.RawStdEncoding.DecodeString(b)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, errors.New("bad dfs login verifier")
	}
	return ed25519.PublicKey(k), nil
}

// loginMessage is what a proof signs: the user and the connection's
// binding (wire.LoginBinding: a TLS exporter value, unique to that
// connection and to the node key it was made with).
func loginMessage(user string, binding []byte) []byte {
	return append([]byte("dfs login v1\x00"+user+"\x00"), binding...)
}

// Prove makes the login proof for user on the connection whose binding is
// given: a signature no other connection, and so no other node, accepts.
func (r *Root) Prove(user string, binding []byte) string {
	return base64.RawStdEncoding.EncodeToString(ed25519.Sign(r.login, loginMessage(user, binding)))
}

// VerifyLogin reports whether proof (from Prove) is user's on the
// connection with this binding, for the verifier login (from Login).
func VerifyLogin(login, user string, binding []byte, proof string) bool {
	pub, err := ParseLogin(login)
	if err != nil {
		return false
	}
	sig, err := base64.RawStdEncoding.DecodeString(proof)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(pub, loginMessage(user, binding), sig)
}
