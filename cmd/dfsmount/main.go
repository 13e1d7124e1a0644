// Command dfsmount mounts a user's dfs files as a folder.
//
//	dfsmount [-conf FILE] [-f] [-cache DIR] [-debug] [-pprof ADDR] MOUNTPOINT
//
// It reads dfc.conf as dfc does (-conf, $DFS_CONF, ./dfc.conf,
// ~/.config/dfs/dfc.conf), takes the password from $DFS_PASSWORD or a
// prompt, asks about the keys of nodes without a pin (before going to the
// background), checks that the nodes accept the password, and mounts.
// Without -f it goes to the background once the mount is usable, like
// sshfs, logging to dfsmount.log in the cache folder. SIGINT or SIGTERM unmounts (uploads of
// files being closed finish first) and exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only with -pprof, on loopback
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"dfs/cmd/internal/cli"
	"dfs/cmd/internal/clientconf"
	"dfs/core/client"
	"dfs/mount"
)

// childEnv marks the background process; its status pipe is fd 3.
const childEnv = "DFSMOUNT_CHILD"

type flags struct {
	conf, cache, pprof string
	foreground, debug  bool
	mountpoint         string
}

func main() {
	var f flags
	clientconf.FlagVar(flag.CommandLine, &f.conf)
	flag.BoolVar(&f.foreground, "f", false, "stay in the foreground, logging to stderr")
	flag.StringVar(&f.cache, "cache", defaultCache(), "`folder` for write spools and the log")
	flag.BoolVar(&f.debug, "debug", false, "log every FUSE request")
	flag.StringVar(&f.pprof, "pprof", "", "serve net/http/pprof on `addr` (loopback only)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: dfsmount [-conf FILE] [-f] [-cache DIR] [-debug] [-pprof ADDR] MOUNTPOINT\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(cli.ExitUsage)
	}
	mp, err := filepath.Abs(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	f.mountpoint = mp
	switch {
	case os.Getenv(childEnv) != "":
		os.Exit(child(f))
	case f.foreground:
		report := func(err error) {
			if err != nil {
				fail(err)
			}
		}
		os.Exit(serve(f, cli.Logger(os.Stderr), report))
	default:
		os.Exit(parent(f))
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "dfsmount: %v\n", err)
	os.Exit(cli.ExitFailure)
}

// defaultCache is $XDG_CACHE_HOME/dfs or ~/.cache/dfs.
func defaultCache() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "dfs")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "dfs-cache")
	}
	return filepath.Join(home, ".cache", "dfs")
}

// serve checks the login, mounts, calls report(nil) once the mount is
// usable (or report(err) on failure), and serves until a signal or an
// external unmount.
func serve(f flags, log *slog.Logger, report func(error)) int {
	cfg, err := clientconf.Load(f.conf)
	if err != nil {
		report(err)
		return cli.ExitFailure
	}
	os.Unsetenv(clientconf.PasswordEnv) // not for anything this process starts
	cfg.Log = log
	cl, err := client.New(cfg)
	if err != nil {
		report(err)
		return cli.ExitFailure
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	if clientconf.Unpinned(cfg) {
		// First contact (in the foreground): a node's key may be asked
		// about on the terminal, and a person takes the time it takes.
		cancel()
		ctx, cancel = cli.SignalContext()
	}
	_, err = cl.Ping(ctx)
	cancel()
	if err != nil {
		report(err)
		return cli.ExitFailure
	}
	if err := os.MkdirAll(f.cache, 0o700); err != nil {
		report(err)
		return cli.ExitFailure
	}
	if err := startPprof(f.pprof, log); err != nil {
		report(err)
		return cli.ExitFailure
	}
	cleanStale(f.mountpoint, log)
	srv, err := mount.Mount(f.mountpoint, cl, mount.Options{CacheDir: f.cache, Log: log}, f.debug)
	if err != nil {
		report(fmt.Errorf("mount %s: %w", f.mountpoint, err))
		return cli.ExitFailure
	}
	log.Info("mounted", "mountpoint", f.mountpoint, "user", cfg.User)
	report(nil)
	// Heal by itself while mounted: soon after a node comes back or
	// restarts, and every 15 minutes (see client.RunHealer).
	healCtx, stopHealer := context.WithCancel(context.Background())
	defer stopHealer()
	go cl.RunHealer(healCtx, client.HealerOptions{Log: log})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		for s := range sigs {
			log.Info("unmounting", "signal", s.String())
			if err := srv.Unmount(); err != nil {
				log.Error("unmount failed; files may still be open", "err", err)
			}
		}
	}()
	srv.Wait()
	log.Info("unmounted", "mountpoint", f.mountpoint)
	return cli.ExitOK
}

// startPprof serves the profiler on a loopback address.
func startPprof(addr string, log *slog.Logger) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-pprof %s: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-pprof %s: only loopback addresses are allowed", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() {
		err := http.Serve(ln, nil)
		if !errors.Is(err, net.ErrClosed) {
			log.Error("pprof", "err", err)
		}
	}()
	return nil
}
