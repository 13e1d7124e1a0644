// Package mount serves a user's dfs files as a FUSE file system.
//
// It is an adapter over client.Client (seen through the Store interface,
// errors mapped to errno in errno.go): lookups, listings, namespace changes
// and attributes are one Store call each, answered by the client, which
// keeps the listing cache (NewRoot turns it on for the entry timeout).
// Inodes find their path by walking to the root, so renames move whole
// subtrees without bookkeeping here.
//
// What the mount keeps itself is what the kernel's page cache needs and no
// client call can give: the version each inode shows (version.go), so that
// every handle reads the version whose size the kernel holds, and a spool
// per file open for writing: an unlinked temporary file in Options.CacheDir,
// shared by all handles of the inode, that holds the whole content; close
// (flush) and fsync store it with one Store.Put. Read-only handles read the
// version the inode shows, range by range, straight from the nodes.
package mount
