//go:build unix

package main

import "syscall"

// mkfifo makes a FIFO at path with mode's permission bits (less the umask).
func mkfifo(path string, mode uint32) error { return syscall.Mkfifo(path, mode) }
