package mount

import (
	"context"
	"syscall"
)

// The mount has no extended attributes. Each handler answers ENOSYS, which
// makes the kernel stop asking for the rest of the mount: `ls -l` asks for
// two attributes of every file it lists (the SELinux label and the POSIX
// ACL), and each question would otherwise be a round trip to this process.
// A file's health is in `dfc where` and `dfc status`.

// Getxattr is not supported (see above).
func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	n.sys.xattrCalls.Add(1)
	return 0, syscall.ENOSYS
}

// Listxattr is not supported (see above).
func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	n.sys.xattrCalls.Add(1)
	return 0, syscall.ENOSYS
}

// Setxattr is not supported (see above).
func (n *node) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	n.sys.xattrCalls.Add(1)
	return syscall.ENOSYS
}

// Removexattr is not supported (see above).
func (n *node) Removexattr(ctx context.Context, attr string) syscall.Errno {
	n.sys.xattrCalls.Add(1)
	return syscall.ENOSYS
}
