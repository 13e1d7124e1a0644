package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"dfs/core"
	"dfs/core/client"
)

// getStdout writes file name to w (dfc get NAME -), in order, through the
// client's read-ahead; what dfc says goes to stderr, as the data goes to
// stdout.
func (e *env) getStdout(ctx context.Context, c *client.Client, name string, w io.Writer) (client.Entry, error) {
	f, err := c.Open(ctx, name)
	if err != nil {
		return client.Entry{}, err
	}
	defer f.Close()
	ent := f.Entry()
	buf := make([]byte, 1<<20)
	for off := int64(0); off < ent.Size; {
		n, err := f.ReadAtContext(ctx, buf[:min(int64(len(buf)), ent.Size-off)], off)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return ent, werr
			}
			off += int64(n)
		}
		if err != nil && !(errors.Is(err, io.EOF) && off == ent.Size) {
			return ent, err
		}
	}
	return ent, nil
}

// getTree fetches folder name and everything under it into the local
// folder dest (made if missing), file by file as getOne does. A file that
// fails is reported and the others are still fetched.
func (e *env) getTree(ctx context.Context, c *client.Client, name, dest string) (failed bool, err error) {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return false, err
	}
	ents, err := c.ReadDir(ctx, name)
	if err != nil {
		return false, err
	}
	for _, ent := range ents {
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		local := filepath.Join(dest, core.Base(ent.Name))
		if ent.IsSpecial() {
			if err := e.getSpecial(ent, local); err != nil {
				e.printErr("get "+ent.Name, err)
				failed = true
			}
			continue
		}
		if ent.Dir {
			f, err := e.getTree(ctx, c, ent.Name, local)
			if err != nil {
				e.printErr("get "+ent.Name, err)
				f = true
			}
			failed = failed || f
			continue
		}
		got, err := e.getOne(ctx, c, ent.Name, local)
		if err != nil {
			e.printErr("get "+ent.Name, err)
			failed = true
			continue
		}
		fmt.Fprintf(e.stdout, "got %s (%d bytes) -> %s\n", ent.Name, got.Size, local)
	}
	return failed, nil
}

// putTree stores the local folder dir as remote folder name: the folders
// are made (an existing one is kept), every regular file is put as putOne
// does and every symlink stored as a symlink (never followed); other kinds
// of files (devices, FIFOs, sockets) are skipped with a note. A file that
// fails is reported and the others are still stored.
func (e *env) putTree(ctx context.Context, c *client.Client, dir, name string) (failed bool) {
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			e.printErr("put "+path, err)
			failed = true
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		remote := name
		if rel != "." {
			remote = core.Join(name, filepath.ToSlash(rel))
		}
		switch {
		case d.IsDir():
			if err := mkdirAll(ctx, c, remote); err != nil {
				e.printErr("put "+remote, err)
				failed = true
				return fs.SkipDir
			}
		case d.Type().IsRegular():
			if err := e.putOne(ctx, c, path, remote); err != nil {
				e.printErr("put "+remote, err)
				failed = true
			}
		case d.Type()&fs.ModeSymlink != 0:
			if err := e.putSymlink(ctx, c, path, remote); err != nil {
				e.printErr("put "+remote, err)
				failed = true
			}
		default:
			fmt.Fprintf(e.stderr, "dfc: put: skipped %s: not a regular file or folder\n", path)
		}
		return nil
	})
	if err != nil {
		e.printErr("put "+dir, err)
		failed = true
	}
	return failed
}

// mkdirAll makes folder name and its missing parents; folders that exist
// are kept, and a file in the way is an error.
func mkdirAll(ctx context.Context, c *client.Client, name string) error {
	clean, err := core.CleanName(name)
	if err != nil {
		return err
	}
	if clean == "" {
		return nil
	}
	if st, err := c.Stat(ctx, clean); err == nil {
		if !st.Dir {
			return fmt.Errorf("%s: %w", clean, core.ErrNotDir)
		}
		return nil
	} else if !errors.Is(err, core.ErrNotFound) {
		return err
	}
	if err := mkdirAll(ctx, c, core.Parent(clean)); err != nil {
		return err
	}
	if _, err := c.Mkdir(ctx, clean, 0o755); err != nil && !errors.Is(err, core.ErrExist) {
		return err
	}
	return nil
}
