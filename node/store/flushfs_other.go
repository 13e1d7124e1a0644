//go:build !linux

package store

import (
	"errors"
	"os"
)

// quietDisk is false where syncfs(2) is missing: every file is fsynced.
func quietDisk() bool { return false }

func syncFS(*os.File) error { return errors.ErrUnsupported }
