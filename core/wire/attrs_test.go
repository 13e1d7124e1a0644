package wire

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckAttrs(t *testing.T) {
	link := func(target string) Meta {
		return Meta{Mode: ModeSymlink | 0o777, Target: target, Size: int64(len(target))}
	}
	good := []Meta{
		{Mode: 0o7777},
		{Dir: true, Mode: 0o1777},
		{Mode: ModeFIFO | 0o644},
		{Mode: ModeSocket | 0o755},
		link("x"),
		link(strings.Repeat("t", MaxTarget)),
		{Mode: ModeSymlink | 0o777, Target: strings.Repeat("t", MaxStoredTarget), Size: MaxTarget}, // stored
		{Deleted: true},
	}
	for _, m := range good {
		if err := CheckAttrs(&m); err != nil {
			t.Errorf("%+v: %v", m, err)
		}
	}
	sized := link("abc")
	sized.Size = 4
	bad := map[string]Meta{
		"block device":      {Mode: 0o060000 | 0o644},
		"char device":       {Mode: 0o020000},
		"regular type bits": {Mode: 0o100644},
		"bits above":        {Mode: 1 << 16},
		"folder with type":  {Dir: true, Mode: ModeFIFO | 0o755},
		"fifo with content": {Mode: ModeFIFO, Size: 1},
		"fifo segments":     {Mode: ModeFIFO, Segments: []Segment{{}}},
		"empty target":      link(""),
		"long target":       link(strings.Repeat("t", MaxStoredTarget+1)),
		"NUL in target":     link("a\x00b"),
		"size not target's": sized,
		"target on a file":  {Mode: 0o644, Target: "x"},
		"target on a fifo":  {Mode: ModeFIFO, Target: "x"},
	}
	for what, m := range bad {
		if err := CheckAttrs(&m); !errors.Is(err, ErrBadAttrs) {
			t.Errorf("%s: %v", what, err)
		}
	}
}

// TestStoredTargetLen: the length a node accepts for a symlink's stored
// target is crypt.EncryptedTargetLen's: 5498 for MaxTarget, 58 for 15
// bytes (base64url of 43).
func TestStoredTargetLen(t *testing.T) {
	for n, want := range map[int64]int{MaxTarget: 5498, 15: 58, 1: 39} {
		if got := storedTargetLen(n); got != want {
			t.Errorf("storedTargetLen(%d) = %d, want %d", n, got, want)
		}
	}
}
