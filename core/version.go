package core

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// A version id is 24 hex digits: 16 of the Unix time in nanoseconds and 8
// random. Ids sort by time as strings; the random part separates two clients
// committing in the same nanosecond. Stamps and content versions use them.

var versionMu sync.Mutex
var lastVersion int64

// NewVersion returns a version id newer than any this process made before.
func NewVersion() string {
	versionMu.Lock()
	t := time.Now().UnixNano()
	if t <= lastVersion {
		t = lastVersion + 1
	}
	lastVersion = t
	versionMu.Unlock()
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return fmt.Sprintf("%016x%s", t, hex.EncodeToString(r[:]))
}

// ValidVersion reports whether v looks like a version id.
func ValidVersion(v string) bool {
	if len(v) != 24 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// VersionTime returns the time a version id was made.
func VersionTime(v string) time.Time {
	var ns int64
	if len(v) >= 16 {
		fmt.Sscanf(v[:16], "%x", &ns)
	}
	return time.Unix(0, ns)
}
