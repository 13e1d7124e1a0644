package mount

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"

	"dfs/core/client"
	"dfs/core/wire"
)

// attrChange returns the attribute change a SETATTR asks for (the size is
// the caller's), refused with EPERM where chown(2), chmod(2) and
// utimensat(2) would refuse it on a local disk.
//
// With default_permissions the kernel makes these checks itself before it
// asks. Without it the kernel checks nothing (ATTR_FORCE), so the mount
// does, for the owner and group stored with cur: only root changes an
// owner; the owner (or root) changes the group, to one of the caller's
// groups, and the mode; setting times other than now takes the owner. As
// Linux does, a chmod by a caller outside the file's group drops setgid.
// Clearing setuid and setgid on a chown or a write is the kernel's: it
// sends the new mode with the change.
func (s *fsys) attrChange(ctx context.Context, in *fuse.SetAttrIn, cur client.Entry) (client.Attrs, syscall.Errno) {
	var a client.Attrs
	if m, ok := in.GetMode(); ok {
		m &= wire.ModePerm
		a.Mode = &m
	}
	if u, ok := in.GetUID(); ok {
		a.UID = &u
	}
	if g, ok := in.GetGID(); ok {
		a.GID = &g
	}
	if t, ok := in.GetATime(); ok {
		n := t.UnixNano()
		a.ATime = &n
	}
	if t, ok := in.GetMTime(); ok {
		n := t.UnixNano()
		a.MTime = &n
	}
	if s.opts.DefaultPermissions {
		return a, 0
	}
	c := s.caller(ctx)
	if c.Uid == 0 {
		return a, 0
	}
	owner := c.Uid == cur.UID
	if a.UID != nil && (*a.UID != cur.UID || !owner) {
		return a, syscall.EPERM // only root gives a file away; chown to the same uid is the owner's
	}
	gid := cur.GID
	if a.GID != nil && *a.GID != cur.GID {
		if !owner || !inGroup(c, *a.GID) {
			return a, syscall.EPERM
		}
		gid = *a.GID
	}
	if a.Mode != nil {
		// Anyone who may write a file may clear its setuid and setgid
		// bits: the kernel does so on a write by a non-owner.
		dropsPriv := *a.Mode == cur.Mode&wire.ModePerm&^(syscall.S_ISUID|syscall.S_ISGID) && *a.Mode != cur.Mode&wire.ModePerm
		if !owner && !dropsPriv {
			return a, syscall.EPERM
		}
		if *a.Mode&syscall.S_ISGID != 0 && !inGroup(c, gid) {
			m := *a.Mode &^ syscall.S_ISGID
			a.Mode = &m
		}
	}
	// A non-owner may only set both times to now (touch); Linux asks
	// for write access then, which the mount does not check without
	// default_permissions.
	now := (a.ATime == nil || in.Valid&fuse.FATTR_ATIME_NOW != 0) && (a.MTime == nil || in.Valid&fuse.FATTR_MTIME_NOW != 0)
	if (a.ATime != nil || a.MTime != nil) && !owner && !now {
		return a, syscall.EPERM
	}
	return a, 0
}

// inGroup reports whether the caller is in group gid: its own group, or
// one of the supplementary groups its process has (FUSE passes only the
// first, so the rest are read from /proc).
func inGroup(c fuse.Caller, gid uint32) bool {
	if c.Gid == gid {
		return true
	}
	groups, err := procGroups(c.Pid)
	if err != nil {
		return false
	}
	for _, g := range groups {
		if g == gid {
			return true
		}
	}
	return false
}

// procGroups returns the supplementary groups of process pid.
func procGroups(pid uint32) ([]uint32, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Groups:")
		if !ok {
			continue
		}
		var gs []uint32
		for _, field := range strings.Fields(rest) {
			g, err := strconv.ParseUint(field, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("/proc/%d/status: group %q: %w", pid, field, err)
			}
			gs = append(gs, uint32(g))
		}
		return gs, nil
	}
	return nil, fmt.Errorf("/proc/%d/status: no Groups line", pid)
}
