package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"dfs/core"
	"dfs/core/client"
)

// runGet fetches NAME into DEST: by default its base name in the current
// folder; a DEST that is a folder gets the base name inside; DEST "-" is
// stdout. With -r NAME is a folder, fetched with everything under it.
func runGet(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("get")
	recursive := fs.Bool("r", false, "NAME is a folder: fetch it and everything under it")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usagef("want NAME and at most one DEST")
	}
	name := pos[0]
	clean, err := core.CleanName(name)
	if err != nil {
		return err
	}
	if len(pos) == 2 && pos[1] == "-" {
		if *recursive {
			return usagef("-r and DEST - do not go together")
		}
		return e.getToStdout(ctx, clean)
	}
	if *recursive {
		return e.getRecursive(ctx, clean, pos[1:])
	}
	if clean == "" {
		return fmt.Errorf("%s: %w", name, core.ErrIsDir)
	}
	dest := core.Base(clean)
	if len(pos) == 2 {
		dest = pos[1]
		if st, err := os.Stat(dest); err == nil && st.IsDir() {
			dest = filepath.Join(dest, core.Base(clean))
		}
	}
	c, err := e.connect(ctx)
	if err != nil {
		return err
	}
	ent, err := e.getOne(ctx, c, clean, dest)
	if err != nil || ent.IsSpecial() {
		return err // a special entry said what became of it
	}
	if ent.State == client.StateDegraded {
		fmt.Fprintf(e.stderr, "dfc: get %s: note: stored with reduced redundancy (some chunks have one copy)\n", clean)
	}
	fmt.Fprintf(e.stdout, "got %s (%d bytes) -> %s\n", clean, ent.Size, dest)
	return nil
}

// getOne writes name into a temp file next to dest and renames it over dest
// only once it is whole, synced and has the entry's mode and mtime; on any
// error the temp file is removed, so dest is never left partial.
func (e *env) getOne(ctx context.Context, c *client.Client, name, dest string) (ent client.Entry, err error) {
	var bar *progress
	if e.wantProgress() {
		// The size is needed before the transfer to size the bar.
		if st, err := c.Stat(ctx, name); err == nil {
			bar = e.newProgress(st.Size, "get "+name)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".dfc-*")
	if err != nil {
		return ent, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	ent, err = c.Get(ctx, name, tmp, bar.report())
	bar.finish()
	if err != nil {
		return ent, err
	}
	if ent.IsSpecial() { // no content: made locally as what it is
		tmp.Close()
		os.Remove(tmp.Name())
		return ent, e.getSpecial(ent, dest)
	}
	if err = tmp.Truncate(ent.Size); err != nil { // Fetch writes at offsets: make the size exact
		return ent, err
	}
	if err = tmp.Sync(); err != nil {
		return ent, err
	}
	mode := os.FileMode(ent.Mode).Perm()
	if mode == 0 {
		mode = 0o644
	}
	if err = tmp.Chmod(mode); err != nil {
		return ent, err
	}
	if err = tmp.Close(); err != nil {
		return ent, err
	}
	mtime := ent.MTime
	if mtime.IsZero() || mtime.Unix() == 0 {
		mtime = time.Now()
	}
	if err = os.Chtimes(tmp.Name(), mtime, mtime); err != nil {
		return ent, err
	}
	if st, serr := os.Stat(dest); serr == nil && st.IsDir() {
		return ent, errors.New(dest + " is a folder")
	}
	if err = os.Rename(tmp.Name(), dest); err != nil {
		return ent, err
	}
	return ent, nil
}

// getToStdout is dfc get NAME -: the file's bytes alone on stdout.
func (e *env) getToStdout(ctx context.Context, name string) error {
	if name == "" {
		return fmt.Errorf("/: %w", core.ErrIsDir)
	}
	c, err := e.connect(ctx)
	if err != nil {
		return err
	}
	ent, err := e.getStdout(ctx, c, name, e.stdout)
	if err != nil {
		return err
	}
	if ent.State == client.StateDegraded {
		fmt.Fprintf(e.stderr, "dfc: get %s: note: stored with reduced redundancy (some chunks have one copy)\n", name)
	}
	return nil
}

// getRecursive is dfc get -r NAME [DEST]: the folder NAME ("" or "/" for
// all files) into DEST, by default its base name here; a DEST that is a
// folder gets the base name inside, as cp -r does.
func (e *env) getRecursive(ctx context.Context, name string, dest []string) error {
	local := core.Base(name)
	if name == "" {
		local = "."
	}
	if len(dest) == 1 {
		local = dest[0]
		if st, err := os.Stat(local); err == nil && st.IsDir() && name != "" {
			local = filepath.Join(local, core.Base(name))
		}
	}
	c, err := e.connect(ctx)
	if err != nil {
		return err
	}
	if name != "" {
		st, err := c.Stat(ctx, name)
		if err != nil {
			return err
		}
		if !st.Dir {
			return fmt.Errorf("%s: %w (get without -r fetches a file)", name, core.ErrNotDir)
		}
	}
	failed, err := e.getTree(ctx, c, name, local)
	if err != nil {
		return err
	}
	if failed {
		return errReported
	}
	return nil
}
