//go:build !linux

package main

import (
	"fmt"
	"os/exec"
)

// detach force-unmounts mp.
func detach(mp string) error {
	if out, err := exec.Command("umount", "-f", mp).CombinedOutput(); err != nil {
		return fmt.Errorf("umount -f: %w: %s", err, out)
	}
	return nil
}
