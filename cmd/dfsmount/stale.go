package main

import (
	"errors"
	"log/slog"
	"os"
	"syscall"
)

// cleanStale unmounts a mount point left behind by a dfsmount that died
// ("transport endpoint is not connected").
func cleanStale(mp string, log *slog.Logger) {
	if _, err := os.Stat(mp); !errors.Is(err, syscall.ENOTCONN) {
		return
	}
	log.Info("cleaning up a stale mount", "mountpoint", mp)
	if err := detach(mp); err != nil {
		log.Warn("could not clean up the stale mount", "mountpoint", mp, "err", err)
	}
}
