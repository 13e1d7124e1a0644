package conf

import (
	"fmt"
	"strings"
)

// splitLines splits data after each '\n', keeping the terminators so that an
// edit can write untouched lines back byte for byte.
func splitLines(data []byte) []string {
	lines := strings.SplitAfter(string(data), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	return lines
}

// lineBody returns line without its "\n" or "\r\n" terminator.
func lineBody(line string) string {
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r")
}

// lineEnding returns the terminator of line ("", "\n" or "\r\n").
func lineEnding(line string) string {
	return line[len(lineBody(line)):]
}

// isBlankOrComment reports whether a line carries nothing: only whitespace or
// a full-line '#' comment.
func isBlankOrComment(body string) bool {
	s := strings.TrimLeft(body, " \t")
	return s == "" || s[0] == '#'
}

// splitKey splits a line body into its key (a leading run of ASCII letters,
// after optional whitespace) and the value after it, with whitespace and one
// optional ':' between them removed. valueOff is the byte offset of the value
// in body. The value keeps its trailing whitespace.
func splitKey(body string) (key, value string, valueOff int, err error) {
	i := 0
	for i < len(body) && (body[i] == ' ' || body[i] == '\t') {
		i++
	}
	start := i
	for i < len(body) && isLetter(body[i]) {
		i++
	}
	key = body[start:i]
	if key == "" || (i < len(body) && body[i] != ' ' && body[i] != '\t' && body[i] != ':') {
		return "", "", 0, fmt.Errorf("cannot read %q (want KEY: VALUE)", clip(strings.TrimSpace(body)))
	}
	for i < len(body) && (body[i] == ' ' || body[i] == '\t') {
		i++
	}
	if i < len(body) && body[i] == ':' {
		i++
	}
	for i < len(body) && (body[i] == ' ' || body[i] == '\t') {
		i++
	}
	return key, body[i:], i, nil
}

// stripComment removes a trailing comment (a '#' that starts the value or
// follows whitespace) and surrounding whitespace from a value that cannot
// itself contain spaces.
func stripComment(v string) string {
	if strings.HasPrefix(v, "#") {
		return ""
	}
	for i := 1; i < len(v); i++ {
		if v[i] == '#' && (v[i-1] == ' ' || v[i-1] == '\t') {
			v = v[:i]
			break
		}
	}
	return strings.Trim(v, " \t")
}

func isLetter(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// clip shortens s for quoting in an error message.
func clip(s string) string {
	const max = 60
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// lineError is an error at one line of a named file, printed as
// "name:line: problem".
func lineError(name string, line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...))
}
