package conf

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// The argon2id parameters HashPassword uses, which are also the weakest a
// dfs.conf may carry (the OWASP minimum: 19 MiB, two passes, one lane).
const (
	ArgonMemory  = 19456 // KiB
	ArgonTime    = 2
	ArgonThreads = 1
	ArgonSaltLen = 16
	ArgonKeyLen  = 32
)

// Upper bounds keep a hostile or mistyped hash from costing a node
// gigabytes or minutes per login.
const (
	maxArgonMemory  = 1 << 22 // KiB (4 GiB)
	maxArgonTime    = 64
	maxArgonSaltLen = 256
	maxArgonKeyLen  = 256
)

// HashPrefix starts every password hash in dfs.conf.
const HashPrefix = "$argon2id$"

// argonHash is a decoded argon2id PHC string.
type argonHash struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// HashPassword hashes pw with argon2id (m=19456 KiB, t=2, p=1, a 16-byte
// random salt and a 32-byte key) and returns the PHC string
// "$argon2id$v=19$m=19456,t=2,p=1$SALT$KEY" with unpadded base64.
func HashPassword(pw string) (string, error) {
	if pw == "" {
		return "", errors.New("empty password")
	}
	salt := make([]byte, ArgonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	h := argonHash{memory: ArgonMemory, time: ArgonTime, threads: ArgonThreads, salt: salt}
	h.key = argon2.IDKey([]byte(pw), h.salt, h.time, h.memory, h.threads, ArgonKeyLen)
	return h.String(), nil
}

// VerifyPassword reports whether pw matches hash, an argon2id PHC string
// with parameters at least as strong as HashPassword's. The keys are compared
// in constant time.
func VerifyPassword(hash, pw string) (bool, error) {
	h, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(pw), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// String formats h as a PHC string.
func (h *argonHash) String() string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s", HashPrefix, argon2.Version,
		h.memory, h.time, h.threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// parseHash decodes and checks an argon2id PHC string, refusing parameters
// weaker than HashPassword's and absurdly expensive ones.
func parseHash(s string) (*argonHash, error) {
	if !strings.HasPrefix(s, HashPrefix) {
		return nil, errors.New("password is not an argon2id hash (want $argon2id$v=19$m=...,t=...,p=...$SALT$KEY)")
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 {
		return nil, errors.New("malformed argon2id hash (want $argon2id$v=19$m=...,t=...,p=...$SALT$KEY)")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, fmt.Errorf("argon2id hash has version %q, want v=%d", clip(parts[2]), argon2.Version)
	}
	var h argonHash
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return nil, fmt.Errorf("argon2id hash parameters %q, want m=KIB,t=PASSES,p=LANES", clip(parts[3]))
	}
	var vals [3]uint64
	for i, want := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(params[i], want)
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return nil, fmt.Errorf("argon2id hash parameters %q, want m=KIB,t=PASSES,p=LANES", clip(parts[3]))
		}
		vals[i] = n
	}
	m, t, p := vals[0], vals[1], vals[2]
	if m < ArgonMemory || t < ArgonTime || p < ArgonThreads {
		return nil, fmt.Errorf("argon2id parameters m=%d,t=%d,p=%d are weaker than m=%d,t=%d,p=%d; set the password again with dfsnode user passwd",
			m, t, p, ArgonMemory, ArgonTime, ArgonThreads)
	}
	if m > maxArgonMemory || t > maxArgonTime || p > 255 || m < 8*p {
		return nil, fmt.Errorf("argon2id parameters m=%d,t=%d,p=%d are out of range (m<=%d, t<=%d, p<=255, m>=8p)",
			m, t, p, maxArgonMemory, maxArgonTime)
	}
	h.memory, h.time, h.threads = uint32(m), uint32(t), uint8(p)
	var err error
	if h.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil {
		return nil, fmt.Errorf("argon2id salt is not unpadded base64: %w", err)
	}
	if h.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil {
		return nil, fmt.Errorf("argon2id key is not unpadded base64: %w", err)
	}
	if len(h.salt) < ArgonSaltLen || len(h.salt) > maxArgonSaltLen {
		return nil, fmt.Errorf("argon2id salt is %d bytes, want %d..%d", len(h.salt), ArgonSaltLen, maxArgonSaltLen)
	}
	if len(h.key) < ArgonKeyLen || len(h.key) > maxArgonKeyLen {
		return nil, fmt.Errorf("argon2id key is %d bytes, want %d..%d", len(h.key), ArgonKeyLen, maxArgonKeyLen)
	}
	return &h, nil
}
