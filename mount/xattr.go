package mount

import (
	"context"
	"syscall"

	"dfs/core"
)

// statusAttr is the one extended attribute: how well a file is stored.
const statusAttr = "user.dfs.status"

// Getxattr returns user.dfs.status: "ok", "degraded" (some chunk has one
// copy only) or "incomplete" (some chunk has none) for files, "ok" for
// folders.
func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	if attr != statusAttr {
		return 0, syscall.ENODATA
	}
	val := core.StateOK.String()
	if !n.IsDir() {
		p, _ := n.path()
		e, err := n.sys.store.Stat(ctx, p)
		if err != nil {
			return 0, n.sys.errno(ctx, "getxattr", err)
		}
		val = e.State.String()
	}
	return copyAttr(dest, val)
}

// Listxattr lists user.dfs.status.
func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	return copyAttr(dest, statusAttr+"\x00")
}

// copyAttr copies val into dest, or says how big dest must be.
func copyAttr(dest []byte, val string) (uint32, syscall.Errno) {
	if len(dest) < len(val) {
		return uint32(len(val)), syscall.ERANGE
	}
	return uint32(copy(dest, val)), 0
}

// Setxattr is refused: dfs stores no extended attributes.
func (n *node) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	return syscall.ENOTSUP
}

// Removexattr is refused: dfs stores no extended attributes.
func (n *node) Removexattr(ctx context.Context, attr string) syscall.Errno {
	return syscall.ENOTSUP
}
