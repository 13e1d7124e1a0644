//go:build linux

package mount

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// signalFiles is how many files the signalled writer makes.
const signalFiles = 200

// signalContent is file i's content: self-describing, of a size that
// varies around the largest inline chunk, so both kinds of put run.
func signalContent(i int) []byte {
	size := 20<<10 + i*977%(200<<10)
	return bytes.Repeat([]byte(fmt.Sprintf("file %05d ", i)), size/11+1)[:size]
}

// TestSignalsDuringClose: a program that writes, fsyncs and closes
// hundreds of files while it gets SIGURG every 50 µs (what the Go runtime
// sends for preemption; SIGCHLD, SIGALRM and SIGWINCH do the same to other
// programs) sees no failure, and every file reads back whole. The kernel
// turns each signal into a FUSE INTERRUPT; an upload abandoned then made
// close(2) fail with EINTR.
func TestSignalsDuringClose(t *testing.T) {
	t.Parallel()
	_, _, mp := setup(t)
	dir := filepath.Join(mp, "signalled")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignalledWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DFS_SIGNALLED_WRITER="+dir)
	cmd.Dir = t.TempDir() // never inside the mount (see run)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the signalled writer failed: %v\n%s", err, out)
	}
	for i := 0; i < signalFiles; i++ {
		got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("f%03d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, signalContent(i)) {
			t.Fatalf("f%03d: %d bytes back, want %d", i, len(got), len(signalContent(i)))
		}
	}
}

// TestSignalledWriter is TestSignalsDuringClose's writer, run as a process
// of its own so that the signals reach it and not the mount.
func TestSignalledWriter(t *testing.T) {
	dir := os.Getenv("DFS_SIGNALLED_WRITER")
	if dir == "" {
		t.Skip("run by TestSignalsDuringClose")
	}
	runtime.LockOSThread() // the signals go to this thread, the one in the syscalls
	defer runtime.UnlockOSThread()
	pid, tid := unix.Getpid(), unix.Gettid()
	stop := make(chan struct{})
	sent := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				sent <- n
				return
			default:
			}
			if unix.Tgkill(pid, tid, unix.SIGURG) == nil {
				n++
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()
	var failures []string
	for i := 0; i < signalFiles; i++ {
		name := filepath.Join(dir, fmt.Sprintf("f%03d", i))
		f, err := os.Create(name)
		if err != nil {
			failures = append(failures, fmt.Sprintf("create %s: %v", name, err))
			continue
		}
		if _, err := f.Write(signalContent(i)); err != nil {
			failures = append(failures, fmt.Sprintf("write %s: %v", name, err))
		}
		if err := f.Sync(); err != nil {
			failures = append(failures, fmt.Sprintf("fsync %s: %v", name, err))
		}
		if err := f.Close(); err != nil {
			failures = append(failures, fmt.Sprintf("close %s: %v", name, err))
		}
	}
	close(stop)
	n := <-sent
	t.Logf("%d signals sent", n)
	if n < signalFiles {
		t.Fatalf("only %d signals sent: the test did not test", n)
	}
	if len(failures) > 0 {
		t.Fatalf("%d failures, first: %v", len(failures), failures[:min(len(failures), 5)])
	}
}
