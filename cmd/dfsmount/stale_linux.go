package main

import (
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
)

// cleanStale unmounts a mount point left behind by a dfsmount that died
// ("transport endpoint is not connected").
func cleanStale(mp string, log *slog.Logger) {
	if _, err := os.Stat(mp); !errors.Is(err, syscall.ENOTCONN) {
		return
	}
	log.Info("cleaning up a stale mount", "mountpoint", mp)
	if os.Geteuid() == 0 && syscall.Unmount(mp, syscall.MNT_DETACH) == nil {
		return
	}
	if out, err := exec.Command("fusermount3", "-u", "-z", mp).CombinedOutput(); err != nil {
		log.Warn("fusermount3 -u -z failed", "err", err, "output", string(out))
	}
}
