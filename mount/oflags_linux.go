package mount

import "golang.org/x/sys/unix"

// oDirect is O_DIRECT as open(2) flags carry it.
const oDirect = unix.O_DIRECT
