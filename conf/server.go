package conf

import (
	"errors"
	"fmt"
	"strings"
)

// MaxUserNameLen is the longest user name, in bytes.
const MaxUserNameLen = 64

// Users is a parsed dfs.conf: user names with their argon2id hashes.
type Users struct {
	names  []string          // in file order
	hashes map[string]string // name -> PHC string
}

// Names returns the user names in file order.
func (u *Users) Names() []string {
	return append([]string(nil), u.names...)
}

// Hash returns the password hash of user name, and whether the user exists.
func (u *Users) Hash(name string) (string, bool) {
	h, ok := u.hashes[name]
	return h, ok
}

// Len returns the number of users.
func (u *Users) Len() int {
	return len(u.names)
}

// ValidUserName checks that name is 1..64 bytes of [A-Za-z0-9._-] and does
// not start with '.', so that it is safe as a directory name on the nodes.
func ValidUserName(name string) error {
	if name == "" {
		return errors.New("empty user name")
	}
	if len(name) > MaxUserNameLen {
		return fmt.Errorf("user name %q is longer than %d bytes", clip(name), MaxUserNameLen)
	}
	if name[0] == '.' {
		return fmt.Errorf("user name %q starts with '.'", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isLetter(c) && !('0' <= c && c <= '9') && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("user name %q has %q (want letters, digits, '.', '_' or '-')", name, string(rune(c)))
		}
	}
	return nil
}

// ParseServer parses the contents of a node's dfs.conf; name is used in
// errors. The file is a list of "Username: NAME" lines, each followed by a
// "Password: HASH" line with an argon2id hash; a plaintext password, weak
// hash parameters or a repeated user are errors.
func ParseServer(name string, data []byte) (*Users, error) {
	entries, err := scanServer(name, data, true)
	if err != nil {
		return nil, err
	}
	u := &Users{hashes: make(map[string]string, len(entries))}
	for _, e := range entries {
		u.names = append(u.names, e.name)
		u.hashes[e.name] = e.hash
	}
	return u, nil
}

// userEntry is one Username/Password pair of a dfs.conf.
type userEntry struct {
	name     string
	hash     string
	userLine int // index in splitLines
	passLine int // index in splitLines
}

// scanServer reads the Username/Password pairs of a dfs.conf. With strict
// false it does not check the hashes, so that an edit can repair a file with
// a plaintext or weak password.
func scanServer(name string, data []byte, strict bool) ([]userEntry, error) {
	var entries []userEntry
	seen := map[string]int{} // user -> line number
	pending := -1            // index of a Username line still waiting for its Password
	lines := splitLines(data)
	for i, line := range lines {
		n := i + 1
		body := lineBody(line)
		if isBlankOrComment(body) {
			continue
		}
		key, value, _, err := splitKey(body)
		if err != nil {
			return nil, lineError(name, n, "%v", err)
		}
		switch strings.ToLower(key) {
		case "username":
			if pending >= 0 {
				return nil, lineError(name, n, "Username line, want the Password line for the user on line %d", pending+1)
			}
			user := stripComment(value)
			if err := ValidUserName(user); err != nil {
				return nil, lineError(name, n, "%v", err)
			}
			if first, dup := seen[user]; dup {
				return nil, lineError(name, n, "user %q again (first on line %d)", user, first)
			}
			seen[user] = n
			entries = append(entries, userEntry{name: user, userLine: i})
			pending = i
		case "password":
			if pending < 0 {
				return nil, lineError(name, n, "Password line without a Username line before it")
			}
			e := &entries[len(entries)-1]
			e.hash = stripComment(value)
			e.passLine = i
			pending = -1
			if !strict {
				continue
			}
			if !strings.HasPrefix(e.hash, HashPrefix) {
				return nil, lineError(name, n, "password of user %q is not an argon2id hash; set it with: dfsnode user passwd %s", e.name, e.name)
			}
			if _, err := parseHash(e.hash); err != nil {
				return nil, lineError(name, n, "user %q: %v", e.name, err)
			}
		default:
			return nil, lineError(name, n, "unknown key %q (want Username or Password)", clip(key))
		}
	}
	if pending >= 0 {
		return nil, lineError(name, pending+1, "user %q has no Password line", entries[len(entries)-1].name)
	}
	return entries, nil
}
