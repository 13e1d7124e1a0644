package crypt

import (
	"testing"

	"dfs/core/wire"
)

// TestMaxStoredTarget: what nodes take as a symlink's stored target is
// the encryption of the longest target clients allow.
func TestMaxStoredTarget(t *testing.T) {
	if got := EncryptedTargetLen(wire.MaxTarget); got != wire.MaxStoredTarget {
		t.Errorf("a target of %d bytes is stored in %d, wire.MaxStoredTarget says %d", wire.MaxTarget, got, wire.MaxStoredTarget)
	}
}
