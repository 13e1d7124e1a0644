// Command dfsmount mounts a user's dfs files as a folder.
//
//	dfsmount [-conf FILE] [-f] [-cache DIR] [-debug] [-pprof ADDR] [-metrics ADDR] [-o OPTIONS] [CONF] MOUNTPOINT
//	dfsmount --version
//
// It reads dfc.conf as dfc does (-conf, $DFS_CONF, ./dfc.conf,
// ~/.config/dfs/dfc.conf), takes the password from $DFS_PASSWORD or a
// prompt, asks about the keys of nodes without a pin (before going to the
// background), checks that the nodes accept the password and that it
// opens the user's key (docs/security.md, End-to-end keys), and mounts.
// Without -f it goes to the background once the mount is usable, like
// sshfs, logging to dfsmount.log in the cache folder. options.go has the
// -o options and the mount.fuse3 form (CONF MOUNTPOINT). SIGINT or SIGTERM unmounts (uploads of
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

func main() {
	if cli.IsVersion(os.Args[1:]) {
		fmt.Println(cli.Version("dfsmount"))
		os.Exit(cli.ExitOK)
	}
	f, err := parseArgs(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(cli.ExitOK)
	}
	if errors.Is(err, errFlag) {
		os.Exit(cli.ExitUsage)
	}
	if errors.Is(err, errUsage) {
		fmt.Fprintf(os.Stderr, "dfsmount: %v\n%s", err, usageLine)
		os.Exit(cli.ExitUsage)
	}
	if err != nil {
		fail(err)
	}
	if os.Getenv(childEnv) != "" {
		os.Exit(child(f))
	}
	// Whatever would make the kernel or fusermount3 refuse the mount is
	// said here, on the terminal, before anything is started.
	if err := checkMountpoint(f); err != nil {
		fail(err)
	}
	if f.foreground {
		rep := reporter{
			warn: func(msg string) { fmt.Fprintf(os.Stderr, "dfsmount: %s%s\n", warnPrefix, msg) },
			done: func(err error) {
				if err != nil {
					fail(err)
				}
			},
		}
		os.Exit(serve(f, cli.Logger(os.Stderr), rep))
	}
	os.Exit(parent(f))
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

// reporter is how serve talks to the person who ran dfsmount: on the
// terminal in the foreground, through the parent in the background.
type reporter struct {
	warn func(msg string) // something the user should know, such as a node down
	done func(err error)  // nil once the mount is usable, or why it failed
}

// serve checks the login, mounts, calls rep.done(nil) once the mount is
// usable (or rep.done(err) on failure), and serves until a signal or an
// external unmount.
func serve(f flags, log *slog.Logger, rep reporter) int {
	report := rep.done
	cfg, err := clientconf.Load(f.conf)
	if err != nil {
		report(err)
		return cli.ExitFailure
	}
	os.Unsetenv(clientconf.PasswordEnv) // not for anything this process starts
	cfg.Log = log
	if f.metrics != "" {
		cfg.Metrics = client.NewMetrics()
		stop, err := cli.ServeMetrics(f.metrics, cfg.Metrics.Handler(), log)
		if err != nil {
			report(fmt.Errorf("-metrics: %w", err))
			return cli.ExitFailure
		}
		defer stop()
	}
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
	nodes, err := cl.Ping(ctx)
	if err == nil {
		err = cl.Unlock(ctx)
	}
	cancel()
	if err != nil {
		report(err)
		return cli.ExitFailure
	}
	health := mount.NewHealth(log)
	health.SetNodes(nodes)
	for _, n := range nodes {
		if !n.Up {
			msg := fmt.Sprintf("%s (%s) is down (%v): until it is back, files written get one copy of some chunks; see %s in the mount", n.Name, n.Addr, n.Err, mount.StatusName)
			log.Warn("node down at mount", "node", n.Name, "addr", n.Addr, "err", n.Err)
			rep.warn(msg)
		}
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
	// Caught from before the mount: a SIGTERM right after READY=1 (or
	// after the parent returned) must unmount, not kill the process and
	// leave a dead mount.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	srv, err := mount.Mount(f.mountpoint, cl, f.mountOptions(log, health), f.debug)
	if err != nil {
		report(mountFailed(f, err))
		return cli.ExitFailure
	}
	log.Info("mounted", "mountpoint", f.mountpoint, "user", cfg.User)
	report(nil)
	if err := notify("READY=1\nSTATUS=mounted at " + f.mountpoint); err != nil {
		log.Warn("could not tell systemd the mount is ready", "err", err)
	}
	// Heal by itself while mounted: soon after a node comes back or
	// restarts, and every 15 minutes (see client.RunHealer).
	healCtx, stopHealer := context.WithCancel(context.Background())
	defer stopHealer()
	go cl.RunHealer(healCtx, client.HealerOptions{Log: log, Checked: health.SetNodes, Healed: health.Healed})
	go func() {
		for s := range sigs {
			log.Info("unmounting", "signal", s.String())
			notify("STOPPING=1")
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
