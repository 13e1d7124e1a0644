//go:build !linux

package main

import (
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
)

// cleanStale unmounts a mount point left behind by a dfsmount that died.
func cleanStale(mp string, log *slog.Logger) {
	if _, err := os.Stat(mp); !errors.Is(err, syscall.ENOTCONN) {
		return
	}
	log.Info("cleaning up a stale mount", "mountpoint", mp)
	if out, err := exec.Command("umount", "-f", mp).CombinedOutput(); err != nil {
		log.Warn("umount -f failed", "err", err, "output", string(out))
	}
}
