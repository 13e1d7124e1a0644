// Package core is the dfs client library: chunk arithmetic, the placement
// table, names and versions, and the Client that stores a user's files on
// four chunk nodes and reads them back. It has no FUSE in it; the mount and
// the dfc command are thin layers over it.
package core
