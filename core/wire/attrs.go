package wire

import (
	"errors"
	"fmt"
	"strings"
)

// Entry types and attributes beyond files and folders (docs/protocol.md,
// Attributes). A regular file and a folder have no type bits in Mode (Dir
// tells them apart); a special entry carries the S_IFMT bits of its type,
// with the values every Unix gives them, so a mount passes them through.
const (
	ModePerm    = 0o7777   // permission bits: setuid, setgid, sticky, rwx for owner, group, others
	ModeType    = 0o170000 // the type bits (S_IFMT)
	ModeSymlink = 0o120000 // S_IFLNK: a symbolic link; Target holds where it points
	ModeFIFO    = 0o010000 // S_IFIFO: a named pipe
	ModeSocket  = 0o140000 // S_IFSOCK: a Unix socket's name
)

// MaxTarget is the longest symlink target, in bytes (PATH_MAX less the NUL).
const MaxTarget = 4095

// MaxStoredTarget is the longest symlink target a node stores: targets are
// stored encrypted, and one of MaxTarget bytes takes 5498
// (crypt.EncryptedTargetLen; a test in core/crypt checks they agree).
const MaxStoredTarget = 5498

// ErrBadAttrs is wrapped by CheckAttrs' errors.
var ErrBadAttrs = errors.New("bad entry attributes")

// IsSpecial reports whether m is a symlink, FIFO or socket: an entry
// without content of its own.
func (m *Meta) IsSpecial() bool { return m.Mode&ModeType != 0 }

// CheckAttrs checks m's type bits and what goes with them: Mode holds only
// permission bits and, outside folders, one of the special types; a special
// entry has no segments; Target only on a symlink, 1..MaxStoredTarget
// bytes without NUL, and a symlink's Size is the target's length (in
// plaintext, which the stored target is the encryption of); a FIFO or
// socket has Size 0. Nodes check every meta a client commits or sends in an
// UPDATE; clients check every meta a node sends.
func CheckAttrs(m *Meta) error {
	if extra := m.Mode &^ (ModePerm | ModeType); extra != 0 {
		return fmt.Errorf("%w: mode %#o has unknown bits %#o", ErrBadAttrs, m.Mode, extra)
	}
	t := m.Mode & ModeType
	switch t {
	case 0, ModeSymlink, ModeFIFO, ModeSocket:
	default:
		return fmt.Errorf("%w: mode %#o has type bits %#o that are not a symlink, FIFO or socket", ErrBadAttrs, m.Mode, t)
	}
	if t != ModeSymlink && m.Target != "" {
		return fmt.Errorf("%w: a target on an entry that is not a symlink", ErrBadAttrs)
	}
	if t == 0 || m.Deleted {
		return nil
	}
	switch {
	case m.Dir:
		return fmt.Errorf("%w: a folder with type bits %#o", ErrBadAttrs, t)
	case len(m.Segments) > 0:
		return fmt.Errorf("%w: a special entry (mode %#o) with %d segments", ErrBadAttrs, m.Mode, len(m.Segments))
	case t != ModeSymlink && m.Size != 0:
		return fmt.Errorf("%w: a FIFO or socket of size %d", ErrBadAttrs, m.Size)
	case t != ModeSymlink:
		return nil
	case m.Target == "" || len(m.Target) > MaxStoredTarget:
		return fmt.Errorf("%w: a symlink target of %d bytes (1 to %d stored)", ErrBadAttrs, len(m.Target), MaxStoredTarget)
	case strings.IndexByte(m.Target, 0) >= 0:
		return fmt.Errorf("%w: a symlink target holding a NUL byte", ErrBadAttrs)
	case m.Size != int64(len(m.Target)) && len(m.Target) != storedTargetLen(m.Size):
		return fmt.Errorf("%w: a symlink of size %d with a target of %d bytes", ErrBadAttrs, m.Size, len(m.Target))
	}
	return nil
}

// storedTargetLen is the length of a symlink target of n bytes as nodes
// store it, encrypted (crypt.EncryptedTargetLen: base64url of a 12-byte
// nonce, the n bytes and a 16-byte tag): Size is the plaintext's length,
// which a client sees and a node does not.
func storedTargetLen(n int64) int {
	return int(((12+n+16)*8 + 5) / 6)
}
