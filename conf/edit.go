package conf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"dfs/core/crypt"
)

// AddUser adds user name with password to the dfs.conf at path, creating
// the file (mode 0600) if it does not exist. It fails if the user exists.
// The file keeps the password's login verifier (crypt.LoginFor), from
// which nothing logs in and no key opens.
func AddUser(path, name, password string) error {
	if err := ValidUserName(name); err != nil {
		return err
	}
	login, err := loginFor(name, password) // slow: before taking the lock
	if err != nil {
		return err
	}
	return editServer(path, true, func(lines []string, entries []userEntry) ([]string, error) {
		if findUser(entries, name) != nil {
			return nil, fmt.Errorf("user %q already exists in %s", name, path)
		}
		if n := len(lines); n > 0 && lineEnding(lines[n-1]) == "" {
			lines[n-1] += "\n"
		}
		return append(lines, "Username: "+name+"\n", "Password: "+login+"\n"), nil
	})
}

// SetPassword replaces the password of user name in the dfs.conf at path
// (an operator's reset: the user's files stay locked with the password
// they were written with, see docs/security.md). It fails if the user
// does not exist. The file may hold plaintext passwords or old argon2id
// hashes (of this user or others); that is how they are repaired.
func SetPassword(path, name, password string) error {
	login, err := loginFor(name, password)
	if err != nil {
		return err
	}
	return SetLogin(path, name, login)
}

// SetLogin replaces the login verifier of user name in the dfs.conf at
// path with login (crypt.Root.Login): what a node does for PASSWD, which
// carries the verifier and never the password.
func SetLogin(path, name, login string) error {
	if _, err := crypt.ParseLogin(login); err != nil {
		return err
	}
	return editServer(path, false, func(lines []string, entries []userEntry) ([]string, error) {
		e := findUser(entries, name)
		if e == nil {
			return nil, fmt.Errorf("no user %q in %s", name, path)
		}
		old := lines[e.passLine]
		lines[e.passLine] = leadingSpace(old) + "Password: " + login + lineEnding(old)
		return lines, nil
	})
}

// loginFor derives the verifier of a password (argon2id, slow).
func loginFor(name, password string) (string, error) {
	if password == "" {
		return "", errors.New("empty password")
	}
	return crypt.LoginFor(name, password), nil
}

// SetQuota sets the quota of user name in the dfs.conf at path to bytes
// (see Users.Quota), 0 removing it: the user's Quota line is replaced,
// added after the Password line, or removed. It fails if the user does not
// exist.
func SetQuota(path, name string, bytes int64) error {
	if bytes < 0 {
		return fmt.Errorf("quota %d is negative", bytes)
	}
	return editServer(path, false, func(lines []string, entries []userEntry) ([]string, error) {
		e := findUser(entries, name)
		if e == nil {
			return nil, fmt.Errorf("no user %q in %s", name, path)
		}
		if e.quotaLine >= 0 {
			old := lines[e.quotaLine]
			if bytes == 0 {
				return slices.Delete(lines, e.quotaLine, e.quotaLine+1), nil
			}
			lines[e.quotaLine] = leadingSpace(old) + "Quota: " + FormatSize(bytes) + lineEnding(old)
			return lines, nil
		}
		if bytes == 0 {
			return lines, nil
		}
		after := max(e.userLine, e.passLine)
		prev := lines[after]
		end := lineEnding(prev)
		if end == "" {
			end = "\n"
			lines[after] += end
		}
		return slices.Insert(lines, after+1, leadingSpace(prev)+"Quota: "+FormatSize(bytes)+end), nil
	})
}

// DelUser removes user name (its Username, Password and Quota lines) from
// the dfs.conf at path. It fails if the user does not exist.
func DelUser(path, name string) error {
	return editServer(path, false, func(lines []string, entries []userEntry) ([]string, error) {
		e := findUser(entries, name)
		if e == nil {
			return nil, fmt.Errorf("no user %q in %s", name, path)
		}
		out := make([]string, 0, len(lines))
		for i, l := range lines {
			if i != e.userLine && i != e.passLine && i != e.quotaLine {
				out = append(out, l)
			}
		}
		return out, nil
	})
}

// SetPin sets the certificate pin of the Server line named server in the
// client conf at path ("" removes the pin), keeping every other line and the
// line's trailing comment byte for byte.
func SetPin(path, server, pin string) error {
	if pin != "" {
		var err error
		if pin, err = normalizePin(pin); err != nil {
			return err
		}
	}
	unlock, err := lockFile(path)
	if err != nil {
		return err
	}
	defer unlock()
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read client conf: %w", err)
	}
	c, locs, err := parseClient(path, data)
	if err != nil {
		return err
	}
	lines := splitLines(data)
	for i, s := range c.Servers {
		if s.Name != server {
			continue
		}
		loc := locs[i]
		old := lines[loc.index]
		body := lineBody(old)
		var b strings.Builder
		b.WriteString(body[:loc.addrEnd])
		if pin != "" {
			b.WriteString(" " + pin)
		}
		b.WriteString(body[loc.pinEnd:]) // the comment, with the space before it
		b.WriteString(lineEnding(old))
		lines[loc.index] = b.String()
		return writeFileAtomic(path, []byte(strings.Join(lines, "")))
	}
	return fmt.Errorf("no server %q in %s", server, path)
}

// editServer runs edit on the lines and users of the dfs.conf at path under
// its lock and writes the result atomically. With create, a missing file is
// treated as empty.
func editServer(path string, create bool, edit func(lines []string, entries []userEntry) ([]string, error)) error {
	unlock, err := lockFile(path)
	if err != nil {
		return err
	}
	defer unlock()
	data, err := os.ReadFile(path)
	if err != nil && !(create && errors.Is(err, fs.ErrNotExist)) {
		return fmt.Errorf("read server conf: %w", err)
	}
	entries, err := scanServer(path, data, false)
	if err != nil {
		return err
	}
	lines, err := edit(splitLines(data), entries)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, []byte(strings.Join(lines, "")))
}

func findUser(entries []userEntry, name string) *userEntry {
	for i := range entries {
		if entries[i].name == name {
			return &entries[i]
		}
	}
	return nil
}

// leadingSpace returns the spaces and tabs that start line.
func leadingSpace(line string) string {
	return line[:len(line)-len(strings.TrimLeft(line, " \t"))]
}
