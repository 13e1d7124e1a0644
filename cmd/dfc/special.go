package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"dfs/core"
	"dfs/core/client"
	"dfs/core/wire"
)

// Symlinks, FIFOs and sockets (docs/protocol.md, Attributes): dfc stores a
// local symlink as a symlink (never following it), and makes one locally
// when it fetches one; a FIFO is made again locally, a socket's name is
// only reported (there is nothing to make without the program serving it).

// entryType names an entry's kind for list and --json.
func entryType(e client.Entry) string {
	switch {
	case e.Dir:
		return "dir"
	case e.Mode&wire.ModeType == wire.ModeSymlink:
		return "symlink"
	case e.Mode&wire.ModeType == wire.ModeFIFO:
		return "fifo"
	case e.Mode&wire.ModeType == wire.ModeSocket:
		return "socket"
	}
	return "file"
}

// putSymlink stores the local symlink path as a symlink at name, owned by
// dfc's user; an entry already there is replaced only if it is a symlink
// (as put replaces a file).
func (e *env) putSymlink(ctx context.Context, c *client.Client, path, name string) error {
	target, err := os.Readlink(path)
	if err != nil {
		return err
	}
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	_, err = c.Symlink(ctx, name, target, uid, gid)
	if errors.Is(err, core.ErrExist) {
		old, serr := c.Stat(ctx, name)
		if serr != nil || !old.IsSymlink() {
			return err
		}
		if old.Target == target {
			err = nil
		} else if err = c.Remove(ctx, name); err == nil {
			_, err = c.Symlink(ctx, name, target, uid, gid)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "stored %s -> %s\n", name, target)
	return nil
}

// getSpecial makes the special entry ent at the local path dest: a symlink
// or a FIFO (replacing a symlink or FIFO there); a socket is reported and
// skipped.
func (e *env) getSpecial(ent client.Entry, dest string) error {
	if st, err := os.Lstat(dest); err == nil {
		if st.Mode()&(fs.ModeSymlink|fs.ModeNamedPipe) == 0 {
			return fmt.Errorf("%s exists and is not a symlink or FIFO", dest)
		}
		if err := os.Remove(dest); err != nil {
			return err
		}
	}
	switch entryType(ent) {
	case "symlink":
		if err := os.Symlink(ent.Target, dest); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "got %s -> %s (symlink) -> %s\n", ent.Name, ent.Target, dest)
	case "fifo":
		if err := mkfifo(dest, ent.Mode&0o777); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "got %s (FIFO) -> %s\n", ent.Name, dest)
	default:
		fmt.Fprintf(e.stderr, "dfc: get: skipped %s: a %s, nothing to fetch\n", ent.Name, entryType(ent))
	}
	return nil
}
