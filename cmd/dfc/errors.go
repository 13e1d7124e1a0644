package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"

	"dfs/cmd/internal/cli"
	"dfs/core"
)

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// errReported is an error whose messages were already printed (put and rm print
// one line per failed name and go on with the others).
var errReported = errors.New("failed")

// exitCode prints err for command cmd and returns the exit status.
func (e *env) exitCode(cmd string, err error) int {
	if err == nil {
		return cli.ExitOK
	}
	var ue usageError
	switch {
	case errors.Is(err, errAtRisk):
		return cli.ExitAtRisk
	case errors.Is(err, errReported):
	case errors.As(err, &ue):
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(e.stderr, "dfc: %s: %v\n", cmd, err)
		}
		if c, ok := commands[cmd]; ok {
			if c.alias != "" {
				c = commands[c.alias]
			}
			fmt.Fprintf(e.stderr, "usage: dfc %s %s\n", cmd, c.args)
		}
		return cli.ExitUsage
	default:
		e.printErr(cmd, err)
	}
	return cli.ExitFailure
}

// printErr prints "dfc: WHAT: ERR" ("dfc: ERR" when what is empty), the
// error as the client made it, except for a wrong password, which prints
// the seed's message exactly and alone. The client's errors name the file
// or folder they concern, so what is the command, and the name too only
// where the error may not say it (put: its errors are about chunks and
// nodes).
func (e *env) printErr(what string, err error) {
	switch {
	case errors.Is(err, core.ErrAuth):
		fmt.Fprintln(e.stderr, core.ErrAuth.Error())
		return
	case errors.Is(err, context.Canceled):
		err = errors.New("interrupted")
	}
	if what == "" {
		fmt.Fprintf(e.stderr, "dfc: %v\n", err)
		return
	}
	fmt.Fprintf(e.stderr, "dfc: %s: %v\n", what, err)
}

// describeFailed lists the failed nodes' errors, in node order; each
// names its node as "DFS2 (127.0.0.1:10002): ...".
func (e *env) describeFailed(failed map[int]error) string {
	ns := make([]int, 0, len(failed))
	for n := range failed {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	parts := make([]string, 0, len(ns))
	for _, n := range ns {
		parts = append(parts, failed[n].Error())
	}
	return strings.Join(parts, "; ")
}
