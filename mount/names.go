package mount

import "strings"

// maxStored is the longest name, as a node stores it, that every node can
// keep: a node holds entry NAME of a user as files/NAME/@meta.new in the
// user's folder, replaces it through files/NAME/@meta.tmp- and 16 hex digits, and
// opens such paths with one openat2 call, which takes at most PATH_MAX
// (4096) bytes with the final NUL. A longer name is refused by the nodes
// ("name too long for this node's filesystem") although core.MaxPath
// allows it.
const maxStored = 4095 - len("files/") - len("/@meta.tmp-") - 16

// fitsNodes reports whether the nodes can store an entry named p. A
// component starting with "@" is stored with one more "@" (the node's own
// files start with one), so it counts one byte more.
func fitsNodes(p string) bool {
	n := len(p)
	for c := range strings.SplitSeq(p, "/") {
		if strings.HasPrefix(c, "@") {
			n++
		}
	}
	return n <= maxStored
}
