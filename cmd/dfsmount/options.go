package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"dfs/cmd/internal/cli"
	"dfs/cmd/internal/clientconf"
	"dfs/mount"
)

// The command line takes the shapes other FUSE file systems take, so that
// mount(8) and /etc/fstab can run dfsmount through mount.fuse3:
//
//	dfsmount [flags] MOUNTPOINT
//	dfsmount [flags] CONF MOUNTPOINT [-o OPTIONS]
//
// mount.fuse3 runs a "fuse.dfsmount" line as "dfsmount CONF MOUNTPOINT -o
// OPTIONS": the fstab source field is the dfc.conf to use. Flags may come
// anywhere among the arguments; -o may be given more than once.

const usageLine = "usage: dfsmount [-conf FILE] [-f] [-cache DIR] [-debug] [-pprof ADDR] [-metrics ADDR] [-o OPTIONS] [CONF] MOUNTPOINT\n"

type flags struct {
	conf, cache, pprof string
	metrics            string // -metrics ADDR
	foreground, debug  bool
	mountpoint         string

	// From -o: the kernel's side of the mount.
	readOnly, allowOther, defaultPermissions, noexec bool
}

// errUsage is a command line mistake: main prints the usage and exits 2.
// errFlag is one the flag package has printed already.
var (
	errUsage = errors.New("bad arguments")
	errFlag  = errors.New("bad flag")
)

// parseArgs reads dfsmount's command line. Errors wrap errUsage.
func parseArgs(args []string, stderr io.Writer) (flags, error) {
	var f flags
	var opts []string
	fs := flag.NewFlagSet("dfsmount", flag.ContinueOnError)
	fs.SetOutput(stderr)
	clientconf.FlagVar(fs, &f.conf)
	fs.BoolVar(&f.foreground, "f", false, "stay in the foreground, logging to stderr")
	fs.StringVar(&f.cache, "cache", defaultCache(), "`folder` for write spools and the log")
	fs.BoolVar(&f.debug, "debug", false, "log every FUSE request")
	fs.StringVar(&f.pprof, "pprof", "", "serve net/http/pprof on `addr` (loopback only)")
	fs.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics at http://`ADDR`/metrics (such as 127.0.0.1:9100)")
	fs.Func("o", "mount `options`, comma-separated: allow_other, default_permissions, ro, noexec,\n"+
		"conf=FILE, cache=DIR, debug, pprof=ADDR (mount(8)'s own options are ignored)", func(s string) error {
		opts = append(opts, s)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprint(stderr, usageLine)
		fs.PrintDefaults()
	}
	pos, err := cli.ParseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return f, err
	}
	if err != nil {
		return f, fmt.Errorf("%w: %v", errFlag, err)
	}
	for _, o := range opts {
		if err := f.setOptions(o); err != nil {
			return f, fmt.Errorf("%w: -o %s: %v", errUsage, o, err)
		}
	}
	switch len(pos) {
	case 1:
	case 2:
		if f.conf != "" && f.conf != pos[0] {
			return f, fmt.Errorf("%w: two configurations: %s and -conf/conf= %s", errUsage, pos[0], f.conf)
		}
		f.conf = pos[0]
		pos = pos[1:]
	default:
		return f, fmt.Errorf("%w: want [CONF] MOUNTPOINT, got %d arguments", errUsage, len(pos))
	}
	if f.mountpoint, err = filepath.Abs(pos[0]); err != nil {
		return f, err
	}
	if f.conf != "" {
		// The background process and mount(8)'s helpers may run
		// elsewhere; an absolute path also reads better in the log.
		if f.conf, err = filepath.Abs(f.conf); err != nil {
			return f, err
		}
	}
	return f, nil
}

// setOptions applies one -o argument: options separated by commas, each a
// name or name=value.
func (f *flags) setOptions(list string) error {
	for _, o := range strings.Split(list, ",") {
		name, value, hasValue := strings.Cut(o, "=")
		needValue := func(p *string) error {
			if !hasValue || value == "" {
				return fmt.Errorf("%s needs a value (%s=...)", name, name)
			}
			*p = value
			return nil
		}
		var err error
		switch name {
		case "conf":
			err = needValue(&f.conf)
		case "cache":
			err = needValue(&f.cache)
		case "pprof":
			err = needValue(&f.pprof)
		case "metrics":
			err = needValue(&f.metrics)
		case "debug":
			f.debug = true
		case "allow_other":
			f.allowOther = true
		case "default_permissions":
			f.defaultPermissions = true
		case "ro":
			f.readOnly = true
		case "rw":
			f.readOnly = false
		case "noexec":
			f.noexec = true
		case "exec":
			f.noexec = false
		case "", "defaults", "auto", "noauto", "user", "nouser", "users", "_netdev", "nofail",
			// The mount is always nosuid,nodev (dfs stores setuid bits
			// but no device files; a program from the mount never gains
			// privileges) and noatime (reads change no access time).
			"dev", "nodev", "suid", "nosuid", "atime", "noatime", "relatime", "norelatime",
			"strictatime", "nostrictatime", "diratime", "nodiratime", "lazytime", "nolazytime", "async":
		default:
			// x-systemd.automount, x-gvfs-show, comment=...: for other
			// programs reading fstab; mount.fuse3 passes them on.
			if strings.HasPrefix(name, "x-") || name == "comment" {
				continue
			}
			return fmt.Errorf("unknown option %q", name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// mountOptions are the mount package's options from the command line.
func (f flags) mountOptions(log *slog.Logger, h *mount.Health) mount.Options {
	return mount.Options{CacheDir: f.cache, Log: log, Health: h, ReadOnly: f.readOnly, AllowOther: f.allowOther,
		DefaultPermissions: f.defaultPermissions, NoExec: f.noexec}
}
