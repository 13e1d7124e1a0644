package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"dfs/core"
	"dfs/core/client"
)

// runPut stores each FILE under its base name, inside folder DIR with -to,
// or under NAME with -as (one FILE only). Files are streamed from disk, of
// any type and size. A failure on one file is reported and the others are
// still stored; the exit status is then 1.
func runPut(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("put")
	to := fs.String("to", "", "store into remote folder `DIR`")
	as := fs.String("as", "", "store the one FILE under remote `NAME`")
	recursive := fs.Bool("r", false, "store folders with everything under them")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(files) == 0:
		return usagef("no FILE given")
	case *as != "" && len(files) > 1:
		return usagef("-as NAME takes exactly one FILE")
	case *as != "" && *to != "":
		return usagef("-as and -to do not go together; give -as DIR/NAME")
	}
	c, err := e.connect(ctx)
	if err != nil {
		return err
	}
	failed := false
	for _, file := range files {
		name := *as
		if name == "" {
			name = core.Join(*to, filepath.Base(file))
		}
		if st, serr := os.Stat(file); serr == nil && st.IsDir() {
			if !*recursive {
				e.printErr("put "+file, errors.New("is a folder (put -r stores folders)"))
				failed = true
				continue
			}
			if *as == "" {
				name = core.Join(*to, filepath.Base(filepath.Clean(file)))
			}
			if e.putTree(ctx, c, file, name) {
				failed = true
			}
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if err := e.putOne(ctx, c, file, name); err != nil {
			e.printErr("put "+name, err)
			failed = true
			if ctx.Err() != nil {
				break
			}
		}
	}
	if failed {
		return errReported
	}
	return nil
}

// putOne stores local file as remote name and says how it was stored.
func (e *env) putOne(ctx context.Context, c *client.Client, file, name string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return errors.New(file + " is not a regular file")
	}
	if err := core.CheckFileSize(st.Size()); err != nil {
		return fmt.Errorf("%s: %w", file, err) // before a byte is read or sent
	}
	bar := e.newProgress(st.Size(), "put "+name)
	// Sync: "stored" means on the nodes' disks.
	res, err := c.Put(ctx, name, f, st.Size(), client.PutOptions{
		Mode: st.Mode(), MTime: st.ModTime(), Progress: bar.report(), Sync: true,
		UID: uint32(os.Getuid()), GID: uint32(os.Getgid()),
	})
	bar.finish()
	if err != nil {
		return err
	}
	if res.State == client.StateDegraded {
		fmt.Fprintf(e.stderr, "dfc: put %s: stored with reduced redundancy (some chunks have one copy); failed: %s\n",
			name, e.describeFailed(res.Failed))
	}
	fmt.Fprintf(e.stdout, "stored %s (%d bytes)\n", name, st.Size())
	return nil
}
