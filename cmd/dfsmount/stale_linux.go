package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// detach unmounts mp lazily: directly as root, else through fusermount3.
func detach(mp string) error {
	if os.Geteuid() == 0 && syscall.Unmount(mp, syscall.MNT_DETACH) == nil {
		return nil
	}
	if out, err := exec.Command("fusermount3", "-u", "-z", mp).CombinedOutput(); err != nil {
		return fmt.Errorf("fusermount3 -u -z: %w: %s", err, out)
	}
	return nil
}
