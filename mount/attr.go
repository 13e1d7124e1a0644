package mount

import (
	"dfs/core/client"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// fill sets out from e as stat(2) shows it: the mounting user owns
// everything, files have one link, folders two, and all three times are the
// modification time. size overrides e.Size (a spool's size); stored is the
// bytes the file takes (holes take none), for st_blocks.
func (s *fsys) fill(e client.Entry, size, stored int64, out *fuse.Attr) {
	mtime := e.MTime
	if mtime.IsZero() || mtime.Unix() <= 0 {
		mtime = s.started // the top folder has no times of its own
	}
	out.Mode = syscall.S_IFREG | e.Mode&0o7777
	out.Nlink = 1
	if e.Dir {
		out.Mode = syscall.S_IFDIR | e.Mode&0o7777
		out.Nlink = 2
	}
	out.Size = uint64(size)
	out.Blocks = (uint64(stored) + 511) / 512
	out.Blksize = 1 << 20
	out.Owner = fuse.Owner{Uid: s.uid, Gid: s.gid}
	out.SetTimes(&mtime, &mtime, &mtime)
}

// stableMode is the file type bits go-fuse keeps for an inode.
func stableMode(e client.Entry) uint32 {
	if e.Dir {
		return syscall.S_IFDIR
	}
	return syscall.S_IFREG
}

// newEntry is the entry of a file or folder this mount just made.
func newEntry(name string, dir bool, mode uint32) client.Entry {
	return client.Entry{Name: name, Dir: dir, Mode: mode & 0o7777, MTime: time.Now()}
}
