// Command dfsnode is a dfs chunk node: it stores the chunks of the users
// listed in dfs.conf under DATA_DIR and serves them on PORT.
//
//	dfsnode [flags] DATA_DIR PORT
//	dfsnode user add|passwd|del NAME [-conf FILE]
//	dfsnode user quota NAME SIZE|none [-conf FILE]
//	dfsnode user list [-conf FILE]
//	dfsnode fingerprint DATA_DIR
//	dfsnode scrub DATA_DIR
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"dfs/cmd/internal/cli"
	"dfs/conf"
	"dfs/core/wire"
	"dfs/node"
	"dfs/node/store"
)

const usage = `usage:
  dfsnode [flags] DATA_DIR PORT             serve the chunks in DATA_DIR on PORT
  dfsnode user add|passwd|del NAME [-conf FILE]
                                            edit the users of dfs.conf (password from prompt or stdin)
  dfsnode user quota NAME SIZE|none [-conf FILE]
                                            set the most a node keeps for the user (500M, 10G, 2T)
  dfsnode user list [-conf FILE]            list the users with their quotas
  dfsnode fingerprint DATA_DIR              print the node key's fingerprint
  dfsnode scrub DATA_DIR                    verify every chunk of a stopped node; exit 1 if any is bad

flags of the server (before or after DATA_DIR PORT):
`

func main() {
	// Everything the node creates (chunks, metadata, dfs.conf, the lock
	// file, the key) is for its own user only, whatever the shell's umask.
	syscall.Umask(0o077)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage makes run print the usage and exit 2.
var errUsage = errors.New("bad arguments")

func run(args []string, stdout, stderr io.Writer) int {
	var err error
	if cli.IsVersion(args) {
		fmt.Fprintln(stdout, cli.Version("dfsnode"))
		return cli.ExitOK
	}
	sub, subArgs := subcommand(args)
	switch sub {
	case "user":
		err = userCmd(subArgs, stdout, stderr)
	case "fingerprint":
		err = fingerprintCmd(subArgs, stdout, stderr)
	case "scrub":
		var bad bool
		bad, err = scrubCmd(subArgs, stdout, stderr)
		if err == nil && bad {
			return cli.ExitFailure
		}
	default:
		err = serveCmd(args, stderr)
	}
	if errors.Is(err, errUsage) {
		fmt.Fprintf(stderr, "dfsnode: %v\n%s", err, usage)
		newServeFlags(stderr).fs.PrintDefaults()
		return cli.ExitUsage
	}
	if errors.Is(err, flag.ErrHelp) {
		return cli.ExitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "dfsnode: %v\n", err)
		return cli.ExitFailure
	}
	return cli.ExitOK
}

type serveFlags struct {
	fs                             *flag.FlagSet
	conf, listen                   *string
	plaintext                      *bool
	maxConns                       *int
	authTimeout, idleTimeout, ioTO *time.Duration
	scrubEvery, flushDelay         *time.Duration
	scrubRate                      byteSize
	maxUserConns, maxUserUploads   *int
	maxUserStaged                  byteSize
	uploadIdle                     *time.Duration
	logLevel                       *slog.LevelVar
	metrics                        *string
}

func newServeFlags(out io.Writer) *serveFlags {
	f := &serveFlags{fs: flag.NewFlagSet("dfsnode", flag.ContinueOnError), scrubRate: 20 << 20, maxUserStaged: byteSize(store.DefaultBytes)}
	f.fs.SetOutput(out)
	f.fs.Usage = func() { fmt.Fprint(out, usage); f.fs.PrintDefaults() }
	f.conf = f.fs.String("conf", "dfs.conf", "the users' `file` (user names and password hashes)")
	f.listen = f.fs.String("listen", "127.0.0.1", "`address` to listen on; 0.0.0.0 serves the network")
	f.plaintext = f.fs.Bool("plaintext-insecure", false, "serve without TLS: passwords and data cross the network in clear")
	f.maxConns = f.fs.Int("max-conns", 1024, "most connections at once")
	f.authTimeout = f.fs.Duration("auth-timeout", 10*time.Second, "time for the TLS handshake and login")
	f.idleTimeout = f.fs.Duration("idle-timeout", 10*time.Minute, "idle time before a logged-in connection is closed")
	f.ioTO = f.fs.Duration("io-timeout", 60*time.Second, "time for any single read or write during a request")
	f.fs.Var(&f.scrubRate, "scrub-rate", "background checksum scrub speed in `bytes` per second (K, M, G, T suffixes; 0 = off)")
	f.scrubEvery = f.fs.Duration("scrub-every", 24*time.Hour, "time between background scrubs")
	f.flushDelay = f.fs.Duration("flush-delay", store.DefaultFlushDelay, "longest time an acknowledged change waits to be written to disk (fsync on a mount waits for it)")
	// Per-user limits (docs/security.md): one user at a limit is refused
	// as busy and affects no one else.
	f.maxUserConns = f.fs.Int("max-user-conns", node.DefaultMaxUserConns, "most connections of one user at once")
	f.maxUserUploads = f.fs.Int("max-user-uploads", store.DefaultUploads, "most uploads of one user waiting for their commit")
	f.fs.Var(&f.maxUserStaged, "max-user-staged", "most `bytes` one user's uploads waiting for their commit may hold (K, M, G, T suffixes); a file may be up to twice it")
	f.uploadIdle = f.fs.Duration("upload-idle", store.DefaultIdle, "time after which an upload no chunk arrived for is dropped")
	f.logLevel = cli.LogLevelVar(f.fs)
	f.metrics = f.fs.String("metrics", "", "serve Prometheus metrics at http://`ADDR`/metrics (such as 127.0.0.1:9101); off when empty")
	return f
}

func serveCmd(args []string, stderr io.Writer) error {
	f := newServeFlags(stderr)
	pos, err := cli.ParseInterleaved(f.fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return fmt.Errorf("%w: want DATA_DIR PORT, got %d arguments", errUsage, len(pos))
	}
	dir, port := pos[0], pos[1]
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("%w: port %q is not a number from 1 to 65535", errUsage, port)
	}
	users, err := openUsers(*f.conf)
	if err != nil {
		return err
	}
	log := cli.LoggerAt(stderr, f.logLevel)
	unlock, err := node.LockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	name := filepath.Base(filepath.Clean(dir))
	var tlsCfg = wire.ServerTLS
	mode := "PLAINTEXT, insecure"
	cfg := node.Config{Dir: dir, Name: name, Users: users, Log: log, MaxConns: *f.maxConns,
		AuthTimeout: *f.authTimeout, IdleTimeout: *f.idleTimeout, IOTimeout: *f.ioTO,
		ScrubRate: int64(f.scrubRate), ScrubEvery: *f.scrubEvery, FlushDelay: *f.flushDelay,
		MaxUserConns: *f.maxUserConns,
		Budget:       store.Budget{Uploads: *f.maxUserUploads, Bytes: int64(f.maxUserStaged), Idle: *f.uploadIdle}}
	if !*f.plaintext {
		cert, err := wire.LoadOrCreateCert(dir)
		if err != nil {
			return err
		}
		fp, err := wire.CertFingerprint(cert)
		if err != nil {
			return err
		}
		cfg.TLS = tlsCfg(cert)
		mode = "TLS, key " + fp
	}
	if *f.metrics != "" {
		cfg.Metrics = node.NewMetrics(name)
		stop, err := cli.ServeMetrics(*f.metrics, cfg.Metrics.Handler(), log)
		if err != nil {
			return fmt.Errorf("-metrics: %w", err)
		}
		defer stop()
	}
	srv, err := node.New(cfg)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(*f.listen, port)
	ln, err := wire.Listen(addr, cfg.TLS)
	if err != nil {
		srv.Close()
		return err
	}
	log.Info(fmt.Sprintf("%s listening on %s (%s)", name, ln.Addr(), mode))
	ctx, stop := cli.SignalContext()
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		log.Info("shutting down")
		srv.Close()
		return <-served
	case err := <-served:
		srv.Close()
		return err
	}
}

// openUsers opens dfs.conf, explaining how to make one when it is missing.
func openUsers(path string) (*conf.UserDB, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist; add a user first with `dfsnode user add NAME -conf %s`", path, path)
	}
	return conf.OpenUserDB(path)
}

// The users of dfs.conf are the node's accounts as they are: no adapter.
var _ node.Accounts = (*conf.UserDB)(nil)

// byteSize is a flag of bytes with an optional K, M, G or T suffix (powers
// of 1024), read as dfs.conf reads sizes.
type byteSize int64

// String writes the size as Set reads it, in the largest unit that keeps
// it exact ("64G", "20M"), so that the defaults read well in -h.
func (b *byteSize) String() string { return conf.FormatSize(int64(*b)) }

func (b *byteSize) Set(s string) error {
	v, err := conf.ParseSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(v)
	return nil
}

// subcommand finds the command (user, fingerprint, scrub) after any leading
// flags, as in "dfsnode -conf FILE user add NAME", and returns it with its
// arguments, the leading flags moved after them (each command parses flags
// among its arguments). Without one it returns "" and args: serve.
func subcommand(args []string) (string, []string) {
	f := newServeFlags(io.Discard)
	if err := f.fs.Parse(args); err != nil {
		return "", args
	}
	rest := f.fs.Args()
	if len(rest) == 0 {
		return "", args
	}
	switch rest[0] {
	case "user", "fingerprint", "scrub":
		lead := args[:len(args)-len(rest)]
		if len(lead) > 0 && lead[len(lead)-1] == "--" {
			return "", args
		}
		return rest[0], append(append([]string(nil), rest[1:]...), lead...)
	}
	return "", args
}
