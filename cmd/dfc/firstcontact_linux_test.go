package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"dfs/internal/testcluster"
)

// terminal is a pseudo-terminal a command runs on, read and typed into
// from its master side, as a person at a terminal would.
type terminal struct {
	t      *testing.T
	master *os.File
	done   chan struct{} // closed when the command's side is closed

	mu  sync.Mutex // guards out
	out bytes.Buffer
}

// runOnTerminal starts cmd with a new pseudo-terminal as its stdin, stdout
// and stderr.
func runOnTerminal(t *testing.T, cmd *exec.Cmd) *terminal {
	t.Helper()
	// Non-blocking, so that os.NewFile polls it and Close ends a Read.
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	err = cmd.Start()
	slave.Close()
	if err != nil {
		t.Fatal(err)
	}
	tm := &terminal{t: t, master: master, done: make(chan struct{})}
	go func() {
		defer close(tm.done)
		buf := make([]byte, 4096)
		for {
			k, err := master.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:k])
			tm.mu.Unlock()
			if err != nil {
				return // EIO once the command's side is closed
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return tm
}

// output is everything shown on the terminal so far.
func (tm *terminal) output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// waitFor waits until the terminal has shown want count times.
func (tm *terminal) waitFor(want string, count int) string {
	tm.t.Helper()
	for deadline := time.Now().Add(time.Minute); ; {
		out := tm.output()
		if strings.Count(out, want) >= count {
			return out
		}
		select {
		case <-tm.done:
			tm.t.Fatalf("the command ended before showing %q %d times:\n%s", want, count, tm.output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("no %q %d times on the terminal after a minute:\n%s", want, count, out)
		}
	}
}

// typeLine types line and Enter.
func (tm *terminal) typeLine(line string) {
	tm.t.Helper()
	if _, err := tm.master.WriteString(line + "\n"); err != nil {
		tm.t.Fatal(err)
	}
}

// wait waits for the command to end and returns its exit status and
// everything it showed.
func (tm *terminal) wait(cmd *exec.Cmd) (int, string) {
	tm.t.Helper()
	err := cmd.Wait()
	<-tm.done
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		tm.t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), tm.output()
}

const question = "Trust this key and pin it (yes/no)? "

// TestFirstContactOnTerminal: on a terminal, dfc shows a node's name,
// address and fingerprint and waits, having sent nothing; "no" refuses
// (nothing pinned, no more questions), "yes" pins, and with Pins: strict it
// refuses without asking and names the node.
func TestFirstContactOnTerminal(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	bin := testcluster.RaceBinary(t, "dfc")
	path := unpinnedConf(t, c.Cluster)

	cmd := testcluster.Command(bin, dir, "-conf", path, "list")
	tm := runOnTerminal(t, cmd)
	out := tm.waitFor(question, 1)
	asked := -1
	for n, a := range c.Nodes() {
		if strings.Contains(out, "first contact with "+a.Name+" at "+a.Addr) && strings.Contains(out, a.Pin) {
			asked = n
		}
	}
	if asked < 0 {
		t.Fatalf("the question names no node with its address and fingerprint:\n%s", out)
	}
	select { // it waits for the answer, and sends nothing meanwhile
	case <-tm.done:
		t.Fatalf("dfc did not wait for the answer:\n%s", tm.output())
	case <-time.After(300 * time.Millisecond):
	}
	noLogin(t, c.Cluster)
	tm.typeLine("no")
	code, out := tm.wait(cmd)
	if code != 1 || !strings.Contains(out, "answered no") || strings.Count(out, question) != 1 {
		t.Fatalf("answered no: exit %d\n%s", code, out)
	}
	noLogin(t, c.Cluster)
	for n, p := range pins(t, path) {
		if p != "" {
			t.Errorf("answered no: DFS%d pinned %s", n+1, p)
		}
	}

	cmd = testcluster.Command(bin, dir, "-conf", path, "list")
	tm = runOnTerminal(t, cmd)
	for i := 1; i <= 4; i++ {
		tm.waitFor(question, i)
		tm.typeLine("yes")
	}
	code, out = tm.wait(cmd)
	if code != 0 {
		t.Fatalf("answered yes: exit %d\n%s", code, out)
	}
	for n, a := range c.Nodes() {
		if got := pins(t, path)[n]; got != a.Pin {
			t.Errorf("answered yes: %s pinned %q, want %s", a.Name, got, a.Pin)
		}
	}

	strict := unpinnedConf(t, c.Cluster, "Pins: strict")
	cmd = testcluster.Command(bin, dir, "-conf", strict, "list")
	tm = runOnTerminal(t, cmd)
	code, out = tm.wait(cmd)
	if code != 1 || strings.Contains(out, question) || !strings.Contains(out, "Pins: strict") || !strings.Contains(out, "DFS") {
		t.Fatalf("strict: exit %d\n%s", code, out)
	}
}
