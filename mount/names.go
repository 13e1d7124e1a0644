package mount

import "dfs/core/client"

// maxStored is the longest name, as a node stores it, that every node can
// keep: a node holds entry NAME of a user as files/NAME/@meta.new in the
// user's folder, replaces it through files/NAME/@meta.tmp- and 16 hex digits, and
// opens such paths with one openat2 call, which takes at most PATH_MAX
// (4096) bytes with the final NUL. A longer name is refused by the nodes
// ("name too long for this node's filesystem") although core.MaxPath
// allows it.
const maxStored = 4095 - len("files/") - len("/@meta.tmp-") - 16

// fitsNodes reports whether the nodes can store an entry named p: its
// name as they store it is encrypted (client.StoredLen), longer than p.
func fitsNodes(p string) bool {
	return client.StoredLen(p) <= maxStored
}
