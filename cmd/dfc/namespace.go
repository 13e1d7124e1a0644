package main

import (
	"context"
	"errors"
	"fmt"

	"dfs/core"
)

// runRm removes each NAME: a file, or a folder if it is empty. A failure on
// one name is reported and the others are still removed.
func runRm(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("rm")
	names, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return usagef("no NAME given")
	}
	c, err := e.connect(ctx)
	if err != nil {
		return err
	}
	failed := false
	for _, name := range names {
		err := c.Remove(ctx, name)
		if errors.Is(err, core.ErrIsDir) {
			err = c.Rmdir(ctx, name)
		}
		if err != nil {
			e.printErr("rm", err)
			failed = true
			continue
		}
		fmt.Fprintf(e.stdout, "removed %s\n", name)
	}
	if failed {
		return errReported
	}
	return nil
}

// runMkdir makes a folder; its parent must exist, unless -p, which makes
// the missing parents and accepts a folder that exists, as mkdir -p does.
func runMkdir(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("mkdir")
	parents := fs.Bool("p", false, "make missing parents; no error if the folder exists")
	name, c, err := e.oneNameFlags(ctx, fs, args)
	if err != nil {
		return err
	}
	if *parents {
		err = mkdirAll(ctx, c, name)
	} else {
		_, err = c.Mkdir(ctx, name, 0o755)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "made folder %s/\n", name)
	return nil
}
