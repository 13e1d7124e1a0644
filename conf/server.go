package conf

import (
	"errors"
	"fmt"
	"strings"

	"dfs/core/crypt"
)

// MaxUserNameLen is the longest user name, in bytes.
const MaxUserNameLen = 64

// oldHashPrefix starts the argon2id password hashes dfs.conf held before
// the end-to-end keys (issue 15). Such a line still parses, so a node
// keeps serving its other users, but it logs nobody in: the login needs a
// verifier, which only the password gives (OldEntryError).
const oldHashPrefix = "$argon2id$"

// Users is a parsed dfs.conf: user names with their login verifiers
// (crypt.Root.Login) and quotas.
type Users struct {
	names  []string          // in file order
	logins map[string]string // name -> verifier, or an old argon2id hash
	quotas map[string]int64  // name -> bytes each node may hold for the user; absent: no quota
}

// Names returns the user names in file order.
func (u *Users) Names() []string {
	return append([]string(nil), u.names...)
}

// Login returns the login verifier of user name ("ed25519:...", or an old
// "$argon2id$" hash that logs nobody in), and whether the user exists.
func (u *Users) Login(name string) (string, bool) {
	l, ok := u.logins[name]
	return l, ok
}

// Quota returns the most bytes each node may hold for user name (see
// docs/security.md, Quotas), or 0 when the user has no quota.
func (u *Users) Quota(name string) int64 {
	return u.quotas[name]
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
// "Password: VERIFIER" line with the login verifier of the user's
// password ("ed25519:<base64>", crypt.Root.Login; an old "$argon2id$" hash
// is accepted and refused at login) and optionally a "Quota: SIZE" line
// (ParseSize, or none); a plaintext password or a repeated user are errors.
func ParseServer(name string, data []byte) (*Users, error) {
	entries, err := scanServer(name, data, true)
	if err != nil {
		return nil, err
	}
	u := &Users{logins: make(map[string]string, len(entries)), quotas: map[string]int64{}}
	for _, e := range entries {
		u.names = append(u.names, e.name)
		u.logins[e.name] = e.login
		if e.quota > 0 {
			u.quotas[e.name] = e.quota
		}
	}
	return u, nil
}

// userEntry is one user of a dfs.conf: its Username, Password and Quota
// lines.
type userEntry struct {
	name      string
	login     string
	quota     int64 // bytes; 0: none
	userLine  int   // index in splitLines
	passLine  int   // index in splitLines
	quotaLine int   // index in splitLines; -1: none
}

// scanServer reads the Username/Password pairs of a dfs.conf. With strict
// false it does not check the verifiers, so that an edit can repair a file
// with a plaintext password.
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
			entries = append(entries, userEntry{name: user, userLine: i, quotaLine: -1})
			pending = i
		case "password":
			if pending < 0 {
				return nil, lineError(name, n, "Password line without a Username line before it")
			}
			e := &entries[len(entries)-1]
			e.login = stripComment(value)
			e.passLine = i
			pending = -1
			if strings.ContainsFunc(e.login, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
				// A verifier (or an old hash) is one printable word; a
				// stray control character would not survive a rewrite.
				return nil, lineError(name, n, "password of user %q holds a space or control character; set it with: dfsnode user passwd %s", e.name, e.name)
			}
			if !strict || strings.HasPrefix(e.login, oldHashPrefix) {
				continue
			}
			if !strings.HasPrefix(e.login, crypt.LoginPrefix) {
				return nil, lineError(name, n, "password of user %q is not a login verifier; set it with: dfsnode user passwd %s", e.name, e.name)
			}
			if _, err := crypt.ParseLogin(e.login); err != nil {
				return nil, lineError(name, n, "user %q: %v; set the password again with: dfsnode user passwd %s", e.name, err, e.name)
			}
		case "quota":
			if len(entries) == 0 {
				return nil, lineError(name, n, "Quota line without a Username line before it")
			}
			e := &entries[len(entries)-1]
			if e.quotaLine >= 0 {
				return nil, lineError(name, n, "user %q has a Quota line already (line %d)", e.name, e.quotaLine+1)
			}
			e.quotaLine = i
			q, err := ParseQuota(stripComment(value))
			if err != nil && strict {
				return nil, lineError(name, n, "user %q: %v", e.name, err)
			}
			e.quota = q
		default:
			return nil, lineError(name, n, "unknown key %q (want Username, Password or Quota)", clip(key))
		}
	}
	if pending >= 0 {
		return nil, lineError(name, pending+1, "user %q has no Password line", entries[len(entries)-1].name)
	}
	return entries, nil
}

// ParseQuota reads the value of a Quota line: a size above zero
// (ParseSize), or none, which is 0.
func ParseQuota(v string) (int64, error) {
	if strings.EqualFold(v, "none") {
		return 0, nil
	}
	q, err := ParseSize(v)
	if err != nil {
		return 0, fmt.Errorf("quota: %w, or none", err)
	}
	if q == 0 {
		return 0, errors.New("quota 0 would let the user store nothing; want a size above 0, or none")
	}
	return q, nil
}
