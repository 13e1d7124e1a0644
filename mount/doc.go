// Package mount serves a user's dfs files as a FUSE file system.
//
// It is an adapter over client.Client (seen through the Store interface,
// errors mapped to errno in errno.go): lookups, listings, namespace changes
// and attributes are one Store call each, answered by the client, which
// keeps the listing cache (NewRoot turns it on for the entry timeout).
// Inodes find their path by walking to the root, so renames move whole
// subtrees without bookkeeping here.
//
// Attributes are the stored ones (attr.go): the entry's type, twelve mode
// bits, owner, group and three times, shown as they are; inode numbers
// are Entry.Ino, a hash of the entry's Born, the same on every client and
// across remounts and renames (a file this mount creates gets its Born at
// create, before anything is stored). Folders, files (File) and symlinks,
// FIFOs and sockets (Special) are the three kinds of inode. A new entry
// belongs to the caller (the group of a setgid folder); chown, chmod and
// utimens follow a local disk's rules, checked here when the kernel does
// not (perm.go). Hard links, devices and RENAME_EXCHANGE are refused with
// an errno; fallocate only extends (allocate.go); a path the nodes could
// not store is refused when it is made (names.go).
//
// What the mount keeps itself is what the kernel's page cache needs and no
// client call can give: the version each inode shows (version.go), so that
// every handle reads the version whose size the kernel holds, and a spool
// per file open for writing (spool.go), shared by all handles of the inode:
// the stored version it started from, a client.Draft of the next one, and
// the segments written since, each an unlinked temporary file in
// Options.CacheDir. A change costs the change: only the segments written to
// are fetched and put again, the others stay shared with the version
// before; holes are neither stored nor sent. A sequential writer's full
// segments are put while it writes on. Close (flush) and fsync put what is
// left and commit the draft. Segments stored but not committed are staged
// on the nodes, part of no version yet (the nodes drop them when the upload
// is idle for long, and a failed commit leaves them nowhere), so a segment
// keeps its local copy until a commit holds it: the mount never drops the
// only copy of data. A file kept open for writing is committed on its own
// (a checkpoint, checkpoint.go) within Options.Checkpoint (30 s) of its
// first stored segment, and at once when it has 8 segments (32 MiB) in
// the cache folder, which bounds the cache whatever the file's size;
// others see it as of then. A failed put or commit is retried with a
// backoff, from a fresh draft with every local copy sent again. Read-only
// handles read the version the inode shows, range by range, straight from
// the nodes.
package mount
