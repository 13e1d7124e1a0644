// Package store is a chunk node's data folder as docs/format.md describes
// it: each user's entries (a directory holding an @meta file, the JSON of
// a Record listing the file's segments), the chunk files of stored
// segments, shared by id between versions and reclaimed by reference
// (segindex.go, gc.go), staged uploads and quarantined copies;
// the group commit that makes changes durable in batches; the recovery
// that runs before a node serves; and the scrub.
//
// A Store is the data folder of a running node and a UserDir one user's
// folder in it, whose methods apply the protocol's changes (Commit,
// Update, Rename, Purge) and reads (Lookup, List, OpenChunk). Namespace
// changes of one user are serialized by a per-user mutex. Every name is
// resolved inside the user's folder without following symlinks (tree.go),
// so nothing reaches outside it. The store knows no connections: package
// node serves it.
package store
