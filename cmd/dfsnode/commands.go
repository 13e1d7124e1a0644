package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"dfs/cmd/internal/cli"
	"dfs/conf"
	"dfs/core/wire"
	"dfs/node"
	"dfs/node/store"
)

// userCmd edits dfs.conf: user add|passwd|del NAME, user quota NAME
// SIZE|none [-conf FILE], or lists it: user list. Passwords come from the
// terminal or stdin, never from the command line.
func userCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dfsnode user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("conf", "dfs.conf", "the users' `file`")
	pos, err := cli.ParseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 3 && pos[0] == "quota" {
		return quotaCmd(*path, pos[1], pos[2], stderr)
	}
	if len(pos) == 1 && pos[0] == "list" {
		return listUsers(*path, stdout)
	}
	if len(pos) != 2 {
		return fmt.Errorf("%w: want user add|passwd|del NAME, user quota NAME SIZE|none or user list", errUsage)
	}
	op, name := pos[0], pos[1]
	switch op {
	case "add", "passwd":
		pw, err := conf.ReadNewPassword(os.Stdin, stderr)
		if err != nil {
			return err
		}
		if op == "add" {
			err = conf.AddUser(*path, name, pw)
		} else {
			err = conf.SetPassword(*path, name, pw)
		}
		if err != nil {
			return err
		}
	case "del":
		if err := conf.DelUser(*path, name); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: unknown user command %q", errUsage, op)
	}
	fmt.Fprintf(stderr, "%s: user %s: done\n", *path, name)
	if op == "passwd" {
		// A reset cannot rewrap the user's key: only the old password opens it.
		fmt.Fprintf(stderr, "note: %s's files stay locked with the password they were written with; "+
			"a user who knows it changes it with dfc passwd, which keeps them readable\n", name)
	}
	return nil
}

// quotaCmd sets the user's quota: the most bytes each node reading the
// file keeps for the user.
func quotaCmd(path, name, size string, stderr io.Writer) error {
	q, err := conf.ParseQuota(size)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := conf.SetQuota(path, name, q); err != nil {
		return err
	}
	if q == 0 {
		fmt.Fprintf(stderr, "%s: user %s: no quota\n", path, name)
	} else {
		fmt.Fprintf(stderr, "%s: user %s: quota %s on each node reading this file\n", path, name, conf.FormatSize(q))
	}
	return nil
}

// fingerprintCmd prints the node key's fingerprint. A data folder without
// a key is an error, not a reason to make one: the fingerprint is asked for
// to be compared with a pin, and a new key would match none.
func fingerprintCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dfsnode fingerprint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pos, err := cli.ParseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: want fingerprint DATA_DIR", errUsage)
	}
	dir := pos[0]
	if _, err := os.Stat(filepath.Join(dir, wire.KeyFile)); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s has no node key (%s): the node makes one when it first starts (dfsnode %s PORT); "+
			"a reinstalled node keeps its old key only if node.key and node.crt were restored from a backup", dir, wire.KeyFile, dir)
	}
	cert, err := wire.LoadOrCreateCert(dir)
	if err != nil {
		return err
	}
	fp, err := wire.CertFingerprint(cert)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, fp)
	return nil
}

// scrubCmd verifies every chunk of a stopped node; bad reports whether any
// was set aside.
func scrubCmd(args []string, stdout, stderr io.Writer) (bad bool, err error) {
	fs := flag.NewFlagSet("dfsnode scrub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	level := cli.LogLevelVar(fs)
	pos, err := cli.ParseInterleaved(fs, args)
	if err != nil {
		return false, err
	}
	if len(pos) != 1 {
		return false, fmt.Errorf("%w: want scrub DATA_DIR", errUsage)
	}
	dir := pos[0]
	if _, err := os.Stat(dir); err != nil {
		return false, err
	}
	// A live node moves chunks while scrub reads them: scrub only a
	// stopped one.
	unlock, err := node.LockDir(dir)
	if err != nil {
		return false, fmt.Errorf("%w; scrub checks a stopped node (a running one scrubs itself, -scrub-rate)", err)
	}
	defer unlock()
	log := cli.LoggerAt(stderr, level)
	rep, err := store.ScrubDir(context.Background(), dir, log)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(stdout, "checked %d chunks (%d bytes): %d bad\n", rep.Checked, rep.Bytes, len(rep.Bad))
	for _, b := range rep.Bad {
		fmt.Fprintf(stdout, "  quarantined %s\n", b)
	}
	return len(rep.Bad) > 0, nil
}

// listUsers prints the users of dfs.conf in file order, one a line, with
// their quotas.
func listUsers(path string, stdout io.Writer) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	users, err := conf.ParseServer(path, data)
	if err != nil {
		return err
	}
	for _, name := range users.Names() {
		q := "no quota"
		if b := users.Quota(name); b > 0 {
			q = "quota " + conf.FormatSize(b)
		}
		fmt.Fprintf(stdout, "%s\t%s\n", name, q)
	}
	return nil
}
