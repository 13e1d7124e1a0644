package testcluster

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"dfs/core/client"
)

// Result is one finished run of a command.
type Result struct {
	Code           int
	Stdout, Stderr string
	Took           time.Duration
}

// Command returns the command running bin (from Binary or RaceBinary)
// with args in dir, with HOME=dir and no DFS_ variable from the test's
// environment: it finds no conf or password but what args give it.
func Command(bin, dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DFS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "HOME="+dir)
	return cmd
}

// Run runs cmd to the end with stdin as its input. A data race reported
// by a command built with -race fails the test.
func Run(t testing.TB, cmd *exec.Cmd, stdin string) Result {
	t.Helper()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String(), Took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	if strings.Contains(r.Stderr, "DATA RACE") {
		t.Errorf("race in %v:\n%s", cmd.Args, r.Stderr)
	}
	return r
}

// KillAfter starts cmd and sends it SIGKILL after d unless it has exited
// by then. It reports whether cmd ran to the end, and its exit code if so.
func KillAfter(cmd *exec.Cmd, d time.Duration) (finished bool, code int, err error) {
	p, err := startProc(cmd)
	if err != nil {
		return false, 0, err
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.done:
		return true, cmd.ProcessState.ExitCode(), nil
	case <-timer.C:
		p.kill()
		// It may have exited on its own just before the signal.
		if ws := cmd.ProcessState; ws.Exited() {
			return true, ws.ExitCode(), nil
		}
		return false, -1, nil
	}
}

// Get reads name whole with cl.
func Get(ctx context.Context, cl *client.Client, name string) ([]byte, error) {
	var buf buffer
	e, err := cl.Get(ctx, name, &buf, nil)
	buf.mu.Lock()
	defer buf.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if int64(len(buf.b)) < e.Size {
		return buf.b, nil // short: the caller's comparison fails
	}
	// A Get that started over on a newer, shorter version leaves the
	// older version's tail behind: the entry's size is the truth.
	return buf.b[:e.Size], nil
}

// buffer is an io.WriterAt over a growing slice. Get writes chunks from
// several goroutines at once.
type buffer struct {
	mu sync.Mutex // guards b
	b  []byte
}

func (w *buffer) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if end := int(off) + len(p); end > len(w.b) {
		w.b = append(w.b, make([]byte, end-len(w.b))...)
	}
	copy(w.b[off:], p)
	return len(p), nil
}
