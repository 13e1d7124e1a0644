// Package store is a chunk node's data folder as docs/format.md describes
// it: each user's entries (a directory holding an @meta file, the JSON of
// a Record), chunk files and their headers, staged uploads, quarantined
// copies and the chunks of replaced versions set aside for their readers;
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
