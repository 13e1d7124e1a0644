package client

import (
	"fmt"
	"strings"

	"dfs/core"
	"dfs/core/crypt"
)

// cleanName is core.CleanName for a name the nodes can hold encrypted
// (crypt.EncryptPath): every component at most crypt.MaxName bytes and the
// encrypted path within core.MaxPath, else core.ErrNameTooLong. Names are
// checked here, where a request starts, so that no node is asked.
func cleanName(name string) (string, error) {
	name, err := core.CleanName(name)
	if err != nil || name == "" {
		return name, err
	}
	for c := range strings.SplitSeq(name, "/") {
		if len(c) > crypt.MaxName {
			return "", fmt.Errorf("%w: a component of %d bytes (%d at most, as names are stored encrypted)", core.ErrNameTooLong, len(c), crypt.MaxName)
		}
	}
	if n := StoredLen(name); n > core.MaxPath {
		return "", fmt.Errorf("%w: %d bytes encrypted (limit %d)", core.ErrNameTooLong, n, core.MaxPath)
	}
	return name, nil
}

// StoredLen is the length of the clean path p as the nodes store it,
// encrypted.
func StoredLen(p string) int {
	if p == "" {
		return 0
	}
	n := strings.Count(p, "/")
	for c := range strings.SplitSeq(p, "/") {
		n += crypt.EncryptedLen(len(c))
	}
	return n
}
