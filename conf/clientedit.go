package conf

import (
	"fmt"
	"os"
	"strings"
)

// SetClientPassword replaces the value of the Password line of the client
// conf at path with password (dfc passwd), atomically and keeping every
// other byte and the file's mode. It reports whether the file has a
// Password line; without one it changes nothing.
func SetClientPassword(path, password string) (bool, error) {
	if password == "" || strings.TrimSpace(password) != password ||
		strings.ContainsFunc(password, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return false, fmt.Errorf("%s: the new password cannot be written to a Password line (it is empty, starts or ends with a space, or has a control character)", path)
	}
	unlock, err := lockFile(path)
	if err != nil {
		return false, err
	}
	defer unlock()
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("read client conf: %w", err)
	}
	if _, err := ParseClient(path, data); err != nil {
		return false, err
	}
	lines := splitLines(data)
	for i, line := range lines {
		body := lineBody(line)
		if isBlankOrComment(body) {
			continue
		}
		key, _, off, err := splitKey(body)
		if err != nil || !strings.EqualFold(key, "password") {
			continue
		}
		// The key and separator as written ("Password: ", "password:\t").
		lines[i] = body[:off] + password + lineEnding(line)
		return true, writeFileAtomic(path, []byte(strings.Join(lines, "")))
	}
	return false, nil
}
