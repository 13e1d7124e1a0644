package cli

import (
	"flag"
	"io"
	"log/slog"
)

// LogLevelVar defines the -log-level flag in fs (debug, info, warn or
// error; default info) and returns the level it sets, for LoggerAt.
func LogLevelVar(fs *flag.FlagSet) *slog.LevelVar {
	lv := new(slog.LevelVar)
	fs.TextVar(lv, "log-level", lv, "least severe `level` logged: debug, info, warn or error")
	return lv
}

// LoggerAt is Logger that drops lines below level.
func LoggerAt(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
