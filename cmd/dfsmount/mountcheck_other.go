//go:build !linux

package main

// mountedAt is not checked outside Linux: macFUSE says it itself.
func mountedAt(mp string) (mountInfo, bool) { return mountInfo{}, false }

// checkFuse is not checked outside Linux.
func checkFuse(f flags) error { return nil }
