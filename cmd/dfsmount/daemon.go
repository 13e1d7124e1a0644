package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"dfs/cmd/internal/cli"
	"dfs/cmd/internal/clientconf"
	"dfs/core/client"
)

// The background mode works like sshfs: the parent reads the configuration
// (prompting for the password on its terminal, and asking about the keys
// of nodes without a pin: meetNodes), starts itself again as a
// new session with the password in $DFS_PASSWORD (never in argv) and a pipe
// as fd 3, and waits for the child to write "ready" or an error on it.

const readyMsg = "ready"

// parent starts the background child and reports its outcome.
func parent(f flags) int {
	cfg, err := clientconf.Load(f.conf)
	if err != nil {
		fail(err)
	}
	if err := os.MkdirAll(f.cache, 0o700); err != nil {
		fail(err)
	}
	logPath := logPath(f)
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		fail(err)
	}
	defer logFile.Close()
	if err := meetNodes(cfg, cli.Logger(logFile)); err != nil {
		fail(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		fail(err)
	}
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"=1", clientconf.PasswordEnv+"="+cfg.Password)
	cmd.Stdout, cmd.Stderr = logFile, logFile // panics land in the log too
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fail(err)
	}
	w.Close()
	// Warnings (a node down) come first, one per line; the last line is
	// "ready" or why the mount failed.
	last := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, warnPrefix) {
			fmt.Fprintf(os.Stderr, "dfsmount: %s\n", line)
		} else {
			last += line
		}
	}
	switch s := strings.TrimSpace(last); s {
	case readyMsg:
		cmd.Process.Release()
		return cli.ExitOK
	case "":
		// It died without a word (a panic, a kill): its last lines
		// say why.
		cmd.Wait()
		fail(fmt.Errorf("the mount process exited; the end of %s:\n%s", logPath, tail(logPath, 5)))
	default:
		cmd.Wait()
		fmt.Fprintf(os.Stderr, "dfsmount: %s\n", s)
	}
	return cli.ExitFailure
}

// meetNodes connects to the nodes before the mount detaches when some have
// no pin in dfc.conf, so that their keys are asked about on this terminal
// (or pinned with a warning on stderr and in log) and written to dfc.conf,
// which the background process reads again.
func meetNodes(cfg client.Config, log *slog.Logger) error {
	if !clientconf.Unpinned(cfg) {
		return nil
	}
	cfg.Log = log
	cl, err := client.New(cfg)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, stop := cli.SignalContext() // no time limit: a person may be comparing fingerprints
	defer stop()
	_, err = cl.Ping(ctx)
	return err
}

// warnPrefix starts a line of the status pipe the parent prints as it
// comes.
const warnPrefix = "warning: "

// logPath is the background process's log.
func logPath(f flags) string { return filepath.Join(f.cache, "dfsmount.log") }

// child is the background process: it logs to the file the parent opened
// as its stderr and reports through fd 3.
func child(f flags) int {
	status := os.NewFile(3, "status")
	log := cli.Logger(os.Stderr)
	rep := reporter{
		warn: func(msg string) {
			// One line each: the parent reads the pipe by lines.
			fmt.Fprintln(status, warnPrefix+strings.ReplaceAll(msg, "\n", " "))
		},
		done: func(err error) {
			msg := readyMsg
			if err != nil {
				msg = strings.ReplaceAll(err.Error(), "\n", " ")
				log.Error("mount failed", "err", err)
			}
			fmt.Fprintln(status, msg)
			status.Close()
		},
	}
	return serve(f, log, rep)
}

// tail returns the last n lines of the file at path (from its last 64
// KiB: the log only grows).
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	const window = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > window {
		f.Seek(st.Size()-window, io.SeekStart)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
