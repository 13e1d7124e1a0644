// Package mount serves a user's dfs files as a FUSE file system.
//
// It is a thin adapter over client.Client (seen through the Store interface):
// each FUSE method makes one Store call and maps the error to an errno in
// errno.go. Inodes find their path with Inode.Path-like walks to the root,
// so renames move whole subtrees without bookkeeping here.
//
// Files open for writing get a spool: an unlinked temporary file in
// Options.CacheDir, shared by all handles of the inode, that holds the
// whole content; close (flush) and fsync upload it with Store.Put. Files
// open only for reading read the version their inode shows (version.go),
// range by range, straight from the nodes.
package mount
