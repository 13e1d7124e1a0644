package mount

import (
	"context"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"dfs/core/client"
	"dfs/core/wire"
)

// fill sets out from e as stat(2) shows it: the stored type, twelve
// permission bits, owner, group and times. size overrides e.Size (a
// spool's size); stored is the bytes the file takes (holes take none), for
// st_blocks. The inode number is go-fuse's to fill (newInode gave it).
//
// A folder has one link, not 2 plus its subfolders: counting them would
// cost a listing per stat, and 1 is what btrfs reports too; find and du
// then do not take the count as a promise (no leaf optimization).
func (s *fsys) fill(e client.Entry, size, stored int64, out *fuse.Attr) {
	mtime, atime, ctime := e.MTime, e.ATime, e.CTime
	if mtime.IsZero() || mtime.Unix() <= 0 {
		mtime = s.started // no times of its own (a folder a node made for a change below it)
	}
	if atime.IsZero() || atime.Unix() <= 0 {
		atime = mtime
	}
	if ctime.IsZero() || ctime.Unix() <= 0 {
		ctime = mtime
	}
	out.Mode = typeOf(e) | e.Mode&wire.ModePerm
	out.Nlink = 1
	out.Size = uint64(size)
	out.Blocks = (uint64(stored) + 511) / 512
	out.Blksize = blksize
	out.Owner = fuse.Owner{Uid: e.UID, Gid: e.GID}
	out.SetTimes(&atime, &mtime, &ctime)
}

// fillTop is fill for the top folder, which has no meta, so no times or
// owner of its own: the mounting user owns it, and its times are the
// mount's start.
func (s *fsys) fillTop(out *fuse.Attr) {
	s.fill(client.Entry{Dir: true, Mode: 0o755, UID: s.uid, GID: s.gid, MTime: s.started}, 0, 0, out)
}

// blksize is st_blksize, the write size the mount prefers: the largest
// write the kernel sends it (maxWrite). Programs size their buffers by it
// (cp, dd conv, stdio's BUFSIZ for the file): a smaller one splits each of
// the kernel's requests, a larger one gains nothing, as the kernel cuts
// every write to maxWrite. Segments (4 MiB) are put whole either way.
const blksize = maxWrite

// typeOf returns the S_IFMT bits of e: the type bits special entries
// store, S_IFDIR for a folder, S_IFREG for a file.
func typeOf(e client.Entry) uint32 {
	switch {
	case e.Dir:
		return syscall.S_IFDIR
	case e.IsSpecial():
		return e.Mode & wire.ModeType
	}
	return syscall.S_IFREG
}

// newInode returns a new inode for the entry e describes, numbered as
// every client numbers it (Entry.Ino: a hash of its Born, kept across
// renames and overwrites). Each inode gets a generation of its own, so
// that go-fuse never merges two of the mount's inodes because they share a
// number (it does that for hard links): a name another client moved shows
// under both names until the kernel forgets the old one, each inode with
// its own path.
func (s *fsys) newInode(ctx context.Context, parent *fs.Inode, ops fs.InodeEmbedder, e client.Entry) *fs.Inode {
	return parent.NewInode(ctx, ops, fs.StableAttr{Mode: typeOf(e), Ino: e.Ino(), Gen: s.gen.Add(1)})
}

// caller returns who made the request (the mounting user when go-fuse
// does not say).
func (s *fsys) caller(ctx context.Context) fuse.Caller {
	if c, ok := fuse.FromContext(ctx); ok {
		return *c
	}
	return fuse.Caller{Owner: fuse.Owner{Uid: s.uid, Gid: s.gid}}
}

// newEntry is the entry of an entry this mount makes now: name, its
// folder-or-not, the twelve permission bits of mode, its owner and group,
// and its Born (its identity, Entry.Ino).
func newEntry(name string, dir bool, mode, uid, gid uint32, born string) client.Entry {
	now := time.Now()
	return client.Entry{Name: name, Dir: dir, Mode: mode & wire.ModePerm, UID: uid, GID: gid,
		MTime: now, ATime: now, CTime: now, Born: born}
}
