package main

import (
	"context"
	"flag"
	"io"
	"os"

	"dfs/cmd/internal/cli"
	"dfs/cmd/internal/clientconf"
	"dfs/core/client"
)

// env is what the commands share within one run (or one interactive
// session): the standard streams, the conf path and the client, made on
// first use so that a -conf after the command still counts.
type env struct {
	stdin          *os.File
	stdout, stderr io.Writer
	confPath       string

	cfg    client.Config
	client *client.Client
	pinged bool // Ping succeeded once: the password is right and a node is up
}

// flagSet returns a flag set for a command that also accepts -conf, so that
// "dfc put -conf x.conf a" works as well as "dfc -conf x.conf put a".
func (e *env) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed once, by exitCode
	clientconf.FlagVar(fs, &e.confPath)
	return fs
}

// parseArgs parses a command's flags wherever they appear among its
// arguments and returns the other arguments (see cli.ParseInterleaved).
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := cli.ParseInterleaved(fs, args)
	if err != nil {
		return nil, usageError{err}
	}
	return pos, nil
}

// connect returns the client, loading the conf and checking the password
// with a Ping the first time. Ping fails with core.ErrAuth on a wrong
// password and core.ErrNoNode when no node answers (within the 1 s connect
// timeout), so every command reports those the same way, before any work.
func (e *env) connect(ctx context.Context) (*client.Client, error) {
	if e.client == nil {
		cfg, err := clientconf.Load(e.confPath)
		if err != nil {
			return nil, err
		}
		c, err := client.New(cfg)
		if err != nil {
			return nil, err
		}
		e.cfg, e.client = cfg, c
	}
	if !e.pinged {
		if _, err := e.client.Ping(ctx); err != nil {
			return nil, err
		}
		e.pinged = true
	}
	return e.client, nil
}

func (e *env) close() {
	if e.client != nil {
		e.client.Close()
	}
}

// oneName parses a command's arguments, which must be exactly one NAME,
// and connects.
func (e *env) oneName(ctx context.Context, cmd string, args []string) (string, *client.Client, error) {
	return e.oneNameFlags(ctx, e.flagSet(cmd), args)
}

// oneNameFlags is oneName with the command's own flag set.
func (e *env) oneNameFlags(ctx context.Context, fs *flag.FlagSet, args []string) (string, *client.Client, error) {
	names, err := parseArgs(fs, args)
	if err != nil {
		return "", nil, err
	}
	if len(names) != 1 {
		return "", nil, usagef("want exactly one NAME")
	}
	c, err := e.connect(ctx)
	return names[0], c, err
}
