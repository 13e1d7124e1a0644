package mount

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestKernelReadAhead: as root the mount raises the kernel's read-ahead
// from its 128 KiB default, so sequential reads come in 1 MiB requests.
func TestKernelReadAhead(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root may set a mount's read-ahead")
	}
	_, _, mp := setup(t)
	p, err := bdiReadAheadPath(mp)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if kb, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || kb != readAheadKB {
		t.Fatalf("%s: %q, want %d", p, b, readAheadKB)
	}
}
