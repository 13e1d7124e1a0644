package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"dfs/cmd/internal/cli"
	"dfs/conf"
	"dfs/core/wire"
	"dfs/node/store"
)

// userCmd edits dfs.conf: user add|passwd|del NAME, user quota NAME
// SIZE|none [-conf FILE]. Passwords come from the terminal or stdin, never
// from the command line.
func userCmd(args []string, stderr io.Writer) error {
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
	if len(pos) != 2 {
		return fmt.Errorf("%w: want user add|passwd|del NAME or user quota NAME SIZE|none", errUsage)
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

// fingerprintCmd prints the node key's fingerprint, making the key first if
// the data folder has none.
func fingerprintCmd(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: want fingerprint DATA_DIR", errUsage)
	}
	cert, err := wire.LoadOrCreateCert(args[0])
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
	if len(args) != 1 {
		return false, fmt.Errorf("%w: want scrub DATA_DIR", errUsage)
	}
	log := cli.Logger(stderr)
	rep, err := store.ScrubDir(context.Background(), args[0], log)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(stdout, "checked %d chunks (%d bytes): %d bad\n", rep.Checked, rep.Bytes, len(rep.Bad))
	for _, b := range rep.Bad {
		fmt.Fprintf(stdout, "  quarantined %s\n", b)
	}
	return len(rep.Bad) > 0, nil
}
