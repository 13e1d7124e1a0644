package core

import (
	"errors"
	"fmt"
)

// Sentinel errors; wrap them with %w and test with errors.Is. The mount maps
// them to errno in one place (mount/errno.go).
var (
	ErrNotFound    = errors.New("no such file or folder")
	ErrExist       = errors.New("already exists")
	ErrNotEmpty    = errors.New("folder not empty")
	ErrNotDir      = errors.New("not a folder")
	ErrIsDir       = errors.New("is a folder")
	ErrNotFile     = errors.New("not a regular file") // a symlink, FIFO or socket has no content to read
	ErrBadName     = errors.New("invalid name")
	ErrNameTooLong = fmt.Errorf("%w: name too long", ErrBadName)
	ErrAuth        = errors.New("Invalid Username/Password. Please try again.") //nolint:staticcheck // the seed's message, shown as is
	ErrNoNode      = errors.New("no node reachable")
	ErrUnavailable = errors.New("not enough nodes reachable")
	ErrIncomplete  = errors.New("Transfer failed") //nolint:staticcheck // the seed's message
	ErrNoSpace     = errors.New("no space left on a node")
	ErrQuota       = errors.New("over quota")
	ErrBusy        = errors.New("node busy") // a per-user limit of a node (docs/security.md, Limits); retry later
	ErrCorrupt     = errors.New("checksum mismatch")
	ErrStale       = errors.New("superseded by a newer version")
	ErrPinMismatch = errors.New("node key does not match the pinned fingerprint")
	ErrTooLarge    = errors.New("file too large: dfs stores files up to 256 GiB") // past MaxFileSize
	ErrKey         = errors.New("the user's key cannot be opened")                // no master key the password opens (docs/security.md, End-to-end keys)
)
