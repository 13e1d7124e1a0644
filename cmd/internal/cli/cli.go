// Package cli is what the mains (dfc, dfsmount, dfsnode) share: their exit
// statuses, flags that may come before, between or after the arguments,
// the signals that end them, and their log format.
package cli

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses of every command.
const (
	ExitOK      = 0
	ExitFailure = 1 // something failed (dfsnode scrub: bad chunks were found)
	ExitUsage   = 2 // a mistake in the command line
	ExitAtRisk  = 3 // dfc status: it worked, and files would not survive the loss of a node
)

// ParseInterleaved parses fs's flags wherever they appear among args and
// returns the other arguments, so that "dfc put -conf x.conf a" works as
// "dfc -conf x.conf put a" does. "--" ends the flags.
func ParseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// SignalContext returns a context canceled by SIGINT or SIGTERM, and the
// function that stops catching them.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// Logger returns the log the commands keep: text lines on w.
func Logger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
