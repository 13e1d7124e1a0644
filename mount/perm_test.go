package mount

import (
	"context"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"

	"dfs/core/client"
)

// TestAttrChangeRules checks the rules the mount applies for chown, chmod
// and utimensat when the kernel does not (no default_permissions), with a
// caller who is not root: the mount tests run as root, so only here are
// these paths taken. The callers' pid is 0, so only their own group
// counts (inGroup reads no /proc).
func TestAttrChangeRules(t *testing.T) {
	s := &fsys{}
	const owner, other, group, otherGroup = 1000, 1001, 100, 200
	file := client.Entry{Name: "f", Mode: 0o6755, UID: owner, GID: group}
	as := func(uid, gid uint32) context.Context {
		return fuse.NewContext(context.Background(), &fuse.Caller{Owner: fuse.Owner{Uid: uid, Gid: gid}})
	}
	set := func(valid uint32, f func(c *fuse.SetAttrInCommon)) *fuse.SetAttrIn {
		in := &fuse.SetAttrIn{}
		in.Valid = valid
		f(&in.SetAttrInCommon)
		return in
	}
	mode := func(m uint32) *fuse.SetAttrIn {
		return set(fuse.FATTR_MODE, func(c *fuse.SetAttrInCommon) { c.Mode = m })
	}
	cases := []struct {
		name string
		ctx  context.Context
		in   *fuse.SetAttrIn
		want syscall.Errno
		mode uint32 // the mode kept, when one is set and allowed
	}{
		{"root gives a file away", as(0, 0), set(fuse.FATTR_UID, func(c *fuse.SetAttrInCommon) { c.Uid = other }), 0, 0},
		{"the owner gives it away", as(owner, group), set(fuse.FATTR_UID, func(c *fuse.SetAttrInCommon) { c.Uid = other }), syscall.EPERM, 0},
		{"a stranger chowns to the same owner", as(other, group), set(fuse.FATTR_UID, func(c *fuse.SetAttrInCommon) { c.Uid = owner }), syscall.EPERM, 0},
		{"the owner chowns to itself", as(owner, group), set(fuse.FATTR_UID, func(c *fuse.SetAttrInCommon) { c.Uid = owner }), 0, 0},
		{"the owner changes to its group", as(owner, otherGroup), set(fuse.FATTR_GID, func(c *fuse.SetAttrInCommon) { c.Gid = otherGroup }), 0, 0},
		{"the owner changes to a group not its own", as(owner, group), set(fuse.FATTR_GID, func(c *fuse.SetAttrInCommon) { c.Gid = otherGroup }), syscall.EPERM, 0},
		{"a stranger changes the group", as(other, otherGroup), set(fuse.FATTR_GID, func(c *fuse.SetAttrInCommon) { c.Gid = otherGroup }), syscall.EPERM, 0},
		{"the owner chmods", as(owner, group), mode(0o6700), 0, 0o6700},
		{"the owner outside the group loses setgid", as(owner, otherGroup), mode(0o2755), 0, 0o755},
		{"a stranger chmods", as(other, group), mode(0o777), syscall.EPERM, 0},
		{"a stranger's write clears setuid and setgid", as(other, group), mode(0o755), 0, 0o755},
		{"a stranger clears only setuid", as(other, group), mode(0o2755), syscall.EPERM, 0},
		{"a stranger touches (both now)", as(other, group), set(fuse.FATTR_ATIME|fuse.FATTR_MTIME|fuse.FATTR_ATIME_NOW|fuse.FATTR_MTIME_NOW, func(*fuse.SetAttrInCommon) {}), 0, 0},
		{"a stranger sets a time", as(other, group), set(fuse.FATTR_MTIME, func(c *fuse.SetAttrInCommon) { c.Mtime = 5 }), syscall.EPERM, 0},
		{"a stranger sets one time now, the other not", as(other, group), set(fuse.FATTR_ATIME|fuse.FATTR_MTIME|fuse.FATTR_ATIME_NOW, func(c *fuse.SetAttrInCommon) { c.Mtime = 5 }), syscall.EPERM, 0},
		{"the owner sets a time", as(owner, group), set(fuse.FATTR_MTIME, func(c *fuse.SetAttrInCommon) { c.Mtime = 5 }), 0, 0},
	}
	for _, tc := range cases {
		a, errno := s.attrChange(tc.ctx, tc.in, file)
		if errno != tc.want {
			t.Errorf("%s: errno %v, want %v", tc.name, errno, tc.want)
			continue
		}
		if tc.want == 0 && tc.mode != 0 && (a.Mode == nil || *a.Mode != tc.mode) {
			t.Errorf("%s: mode %v, want %o", tc.name, a.Mode, tc.mode)
		}
	}
	// With default_permissions the kernel has checked: nothing is refused.
	s.opts.DefaultPermissions = true
	if _, errno := s.attrChange(as(other, group), mode(0o777), file); errno != 0 {
		t.Errorf("with default_permissions: %v", errno)
	}
}
