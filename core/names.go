package core

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxComponent is the longest name component accepted, in bytes.
const MaxComponent = 255

// MaxPath is the longest path accepted, in bytes.
const MaxPath = 4096

// CleanName checks a user's file or folder name and returns it in canonical
// form: components joined by "/", no leading or trailing slash. The root is
// "". It refuses absolute paths, "." and ".." components, empty components
// inside the path, NUL bytes, invalid UTF-8, and components over 255 bytes. Names are compared as
// bytes: "é" precomposed and decomposed are two names, as on Linux.
func CleanName(name string) (string, error) {
	if name == "" || name == "/" {
		return "", nil
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("%w: %q is absolute; names are relative to your folder", ErrBadName, name)
	}
	if len(name) > MaxPath {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrNameTooLong, MaxPath)
	}
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: %q is not valid UTF-8", ErrBadName, name)
	}
	name = strings.TrimSuffix(name, "/")
	for _, c := range strings.Split(name, "/") {
		switch {
		case c == "":
			return "", fmt.Errorf("%w: %q has an empty component", ErrBadName, name)
		case c == "." || c == "..":
			return "", fmt.Errorf("%w: %q contains %q", ErrBadName, name, c)
		case strings.ContainsRune(c, 0):
			return "", fmt.Errorf("%w: %q contains a NUL byte", ErrBadName, name)
		case len(c) > MaxComponent:
			return "", fmt.Errorf("%w: component of %d bytes (limit %d)", ErrNameTooLong, len(c), MaxComponent)
		}
	}
	return name, nil
}

// Parent returns the folder holding name ("" for the root's children).
func Parent(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return ""
}

// Base returns the last component of name.
func Base(name string) string {
	return name[strings.LastIndexByte(name, '/')+1:]
}

// Join joins a folder and a component.
func Join(dir, base string) string {
	if dir == "" {
		return base
	}
	return dir + "/" + base
}
