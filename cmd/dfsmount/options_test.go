package main

import (
	"errors"
	"io"
	"path/filepath"
	"testing"
)

// TestParseArgs covers the shapes mount.fuse3, fstab and people use.
func TestParseArgs(t *testing.T) {
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	for _, tc := range []struct {
		args []string
		want flags
	}{
		{[]string{"/mnt"}, flags{mountpoint: "/mnt"}},
		{[]string{"-conf", "c.conf", "-f", "m"}, flags{conf: abs("c.conf"), foreground: true, mountpoint: abs("m")}},
		// mount.fuse3: dfsmount CONF MOUNTPOINT -o OPTIONS, with what
		// mount(8) adds for a user mount and what fstab carries for others.
		{[]string{"/etc/dfs/dfc.conf", "/mnt", "-o", "rw,noexec,nosuid,nodev,allow_other,default_permissions,cache=/var/cache/dfs,x-systemd.automount,comment=x"},
			flags{conf: "/etc/dfs/dfc.conf", mountpoint: "/mnt", noexec: true, allowOther: true, defaultPermissions: true, cache: "/var/cache/dfs"}},
		{[]string{"-o", "ro", "-o", "conf=/c", "/mnt"}, flags{conf: "/c", mountpoint: "/mnt", readOnly: true}},
		{[]string{"/c", "/mnt", "-o", "ro,rw,debug,_netdev,user,noauto,nofail,dev,suid"}, flags{conf: "/c", mountpoint: "/mnt", debug: true}},
	} {
		got, err := parseArgs(tc.args, io.Discard)
		if tc.want.cache == "" {
			tc.want.cache = defaultCache()
		}
		if err != nil || got != tc.want {
			t.Errorf("%q:\n got %+v, %v\nwant %+v", tc.args, got, err, tc.want)
		}
	}
	for _, args := range [][]string{
		{},
		{"a", "b", "c"},
		{"-o", "bogus", "/mnt"},
		{"-o", "conf=", "/mnt"},
		{"-o", "sync", "/mnt"},
		{"-conf", "/a", "/b", "/mnt"},
	} {
		if _, err := parseArgs(args, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}
