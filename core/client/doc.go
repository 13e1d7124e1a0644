// Package client is the dfs client library: the Client that stores a user's
// files on four chunk nodes and reads them back, with read-ahead, heal and
// status as parts of it. It speaks the protocol in core/wire and follows the
// arithmetic and placement in core. It has no FUSE in it; the mount and the
// dfc command are thin layers over it.
package client
