//go:build !linux

package mount

// raiseReadAhead does nothing: the kernel read-ahead setting is Linux's.
func raiseReadAhead(mountpoint string, kb int) error { return nil }
