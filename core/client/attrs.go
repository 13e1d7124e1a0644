package client

import (
	"context"
	"hash/fnv"
	"os"

	"dfs/core/wire"
)

// RootIno is the inode number of the top folder; Ino never returns it.
const RootIno = 1

// Ino returns the entry's inode number: a 64-bit hash of its Born, which a
// rename keeps and a commit over a live file keeps too, so the number is
// the same on every client, across remounts, renames and overwrites. An
// entry without a Born of its own (a folder a node made for a change below
// it, or one from before Born existed) hashes its path instead. Never 0 or
// RootIno; the top folder is RootIno.
func (e *Entry) Ino() uint64 {
	if e.Name == "" && e.Dir {
		return RootIno
	}
	h := fnv.New64a()
	if e.Born == "" || e.Born == implicitStamp {
		h.Write([]byte("path:"))
		h.Write([]byte(e.Name))
	} else {
		h.Write([]byte(e.Born))
	}
	ino := h.Sum64()
	if ino <= RootIno || ino == ^uint64(0) { // 0 and ^0 are reserved by go-fuse, 1 is the root
		ino = 2
	}
	return ino
}

// IsSymlink reports whether the entry is a symbolic link (Target says
// where it points).
func (e *Entry) IsSymlink() bool { return e.Mode&wire.ModeType == wire.ModeSymlink }

// IsSpecial reports whether the entry is a symlink, FIFO or socket: an
// entry without content of its own.
func (e *Entry) IsSpecial() bool { return e.Mode&wire.ModeType != 0 }

// Attrs is a change of an entry's attributes for SetAttrs: nil leaves an
// attribute as it is. The change time becomes now whatever changes.
type Attrs struct {
	Mode  *uint32 // the 12 permission bits (wire.ModePerm); the type bits are ignored
	UID   *uint32
	GID   *uint32
	ATime *int64 // unix ns
	MTime *int64 // unix ns
}

// unixPerm returns the permission bits of m as a Unix mode: its rwx bits,
// setuid, setgid and sticky whether m holds them as os.FileMode flags or as
// the Unix bits (a mode cast from a syscall value).
func unixPerm(m os.FileMode) uint32 {
	p := uint32(m) & wire.ModePerm
	if m&os.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

// ownIDs are this process's uid and gid: the owner of what the calls that
// take none (Mkdir, SetAttr's callers of old) create.
func ownIDs() (uint32, uint32) { return uint32(os.Getuid()), uint32(os.Getgid()) }

// keptBorn returns the Born the draft's version keeps: its base's, or,
// without a base, that of the live file a node said the name holds (a put
// over a file), so that an overwrite keeps the file's Ino. "" when the
// version is a new file's.
func (d *Draft) keptBorn(ctx context.Context) string {
	d.mu.Lock()
	born, name, exists := d.born, d.name, false
	for n := range d.exists {
		exists = exists || d.exists[n]
	}
	d.mu.Unlock()
	if born != "" || !exists {
		return born
	}
	return d.c.fileBorn(ctx, name)
}

// fileBorn returns the Born of the live regular file at name, "" when there
// is none (or the nodes cannot say). One lookup, without waiting for a
// version caught between commit waves to settle: every version of the file
// has the same Born.
func (c *Client) fileBorn(ctx context.Context, name string) string {
	e, err := c.lookup(ctx, name)
	if err != nil || e.Dir || e.IsSpecial() || e.Name == "" {
		return ""
	}
	return e.Born
}
