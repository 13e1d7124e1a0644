package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"dfs/core/client"
	"dfs/core/wire"
	"dfs/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// Half-open connections: what 1,000 connections that never log in cost a
// dfsnode process (docs/security.md, Limits).
const (
	silentConns = 800 // TCP only: not even a TLS ClientHello
	tlsConns    = 100 // a whole TLS handshake, then nothing (no AUTH)
	bigConns    = 100 // the handshake, then the largest frame allowed before login, one byte short
	// maxHalfOpenGrowth is the most the node's resident memory may grow
	// while holding them (docs/security.md): they hold about 14 KiB each,
	// 48 KiB inside a frame, and the garbage collector's slack comes on top.
	maxHalfOpenGrowth = 32 << 20
)

// TestHalfOpenConnectionsMemory opens 1,000 connections to one dfsnode
// process that never authenticate, some of them after a whole TLS
// handshake and some inside a frame, and checks that the node's resident
// memory grows by less than the documented figure and that a legitimate
// client goes on working meanwhile.
func TestHalfOpenConnectionsMemory(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc to read a process's memory from")
	}
	raiseFileLimit(t, silentConns+tlsConns+bigConns+256)
	c := testcluster.Start(t, testcluster.Processes())
	pid := c.PID(0)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	cl := testcluster.NewClient(t, c.Config("alice", testcluster.Users["alice"]))
	before := rss(t, pid)

	// Two waves, as an attacker who reconnects when the node drops him:
	// the second wave's buffers reuse the first's memory, which has to be
	// cleared (touched) then, where brand-new pages might not be.
	addr, pin := c.Addr(0), c.Nodes()[0].Pin
	var conns []net.Conn
	closeAll := func() {
		for _, nc := range conns {
			nc.Close()
		}
		conns = nil
	}
	defer closeAll()
	var start time.Time
	for wave := range 2 {
		if wave > 0 {
			closeAll()
			waitFiles(t, pid, 100)
		}
		start = time.Now()
		for range silentConns {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("connection %d: %v", len(conns), err)
			}
			conns = append(conns, nc)
		}
		for range tlsConns {
			nc, err := wire.Dial(ctx, addr, wire.ClientTLS("DFS1", addr, pin))
			if err != nil {
				t.Fatalf("TLS connection %d: %v", len(conns), err)
			}
			conns = append(conns, nc)
		}
		for range bigConns {
			nc, err := wire.Dial(ctx, addr, wire.ClientTLS("DFS1", addr, pin))
			if err != nil {
				t.Fatalf("TLS connection %d: %v", len(conns), err)
			}
			conns = append(conns, nc)
			var hb [wire.HeaderSize]byte
			wire.EncodeHeader(hb[:], wire.Header{Type: wire.TypeAuth, Len: wire.MaxPreAuthFrame})
			if _, err := nc.Write(append(hb[:], make([]byte, wire.MaxPreAuthFrame-1)...)); err != nil {
				t.Fatal(err)
			}
		}
	}
	during := rss(t, pid)
	// The node closes a connection that has not logged in after its
	// -auth-timeout (10 s): the figure counts only if it still held them.
	if took, held := time.Since(start), openFiles(t, pid); held < silentConns+tlsConns+bigConns {
		t.Fatalf("the node held %d descriptors after %v: connections were closed before the measurement", held, took.Round(time.Millisecond))
	}
	// Meanwhile the node serves its users.
	roundTrip(ctx, t, cl, "during", bytes.Repeat([]byte("half-open "), 10_000))
	grew := during - before
	t.Logf("dfsnode resident: %d KiB before, %d KiB with %d half-open connections (%d bytes each)",
		before>>10, during>>10, len(conns), grew/int64(len(conns)))
	if grew > maxHalfOpenGrowth {
		t.Errorf("%d half-open connections grew the node by %d KiB, more than the documented %d KiB",
			len(conns), grew>>10, maxHalfOpenGrowth>>10)
	}
}

// roundTrip puts data and reads it back: the node serves its users.
func roundTrip(ctx context.Context, t *testing.T, cl *client.Client, name string, data []byte) {
	t.Helper()
	if _, err := cl.Put(ctx, name, bytes.NewReader(data), int64(len(data)), client.PutOptions{}); err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
	got, err := testcluster.Get(ctx, cl, name)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get %s: %d bytes, %v", name, len(got), err)
	}
}

// rss is process pid's resident memory in bytes (VmRSS).
func rss(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS for process %d", pid)
	return 0
}

// openFiles counts process pid's open file descriptors.
func openFiles(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// waitFiles waits until process pid has fewer than n descriptors open.
func waitFiles(t *testing.T, pid, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); openFiles(t, pid) >= n; {
		if time.Now().After(deadline) {
			t.Fatalf("the node still holds %d descriptors", openFiles(t, pid))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// raiseFileLimit makes sure this process may open n files (Go raises the
// soft limit to the hard one at start; a low hard limit skips the test).
func raiseFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Skipf("open file limit %d, the test needs %d", lim.Max, n)
	}
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
}
