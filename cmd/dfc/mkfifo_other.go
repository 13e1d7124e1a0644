//go:build !unix

package main

import "errors"

// mkfifo fails where there are no FIFOs.
func mkfifo(path string, mode uint32) error { return errors.New("no FIFOs on this system") }
