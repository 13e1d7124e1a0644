// Package node is the dfs chunk node: it serves the wire protocol to
// authenticated users and keeps each user's entries, chunk files, staged
// uploads and quarantined copies under one data folder, as described in
// docs/format.md.
//
// Every connection is handled by its own goroutine and its requests are
// sequential. Namespace changes of one user are serialized by a per-user
// mutex. Paths from requests are checked with core.CleanName and resolved
// inside an os.Root of the user's folder, refusing symlinks, so a request can
// never reach outside that folder.
package node
