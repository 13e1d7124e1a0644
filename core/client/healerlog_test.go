package client

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestLogHealLost: a heal that found lost files logs at ERROR with their
// names (the first ten); one that found none logs at INFO.
func TestLogHealLost(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	logHeal(log, "periodic check", HealReport{Files: 3}, nil)
	if !strings.Contains(buf.String(), "level=INFO msg=heal") {
		t.Errorf("clean heal: %s", buf.String())
	}
	buf.Reset()
	lost := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}
	logHeal(log, "DFS2 answers again", HealReport{Files: 11, Lost: lost}, nil)
	out := buf.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "lost=11") ||
		!strings.Contains(out, "lost_files=\"[a b c d e f g h i j]\"") {
		t.Errorf("heal with lost files: %s", out)
	}
}
