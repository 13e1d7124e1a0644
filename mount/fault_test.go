//go:build linux

package mount

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
)

// putRandom stores size random bytes as name through cl.
func putRandom(t *testing.T, cl *client.Client, name string, size int) []byte {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	if _, err := cl.Put(context.Background(), name, bytes.NewReader(data), int64(size), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	return data
}

// readDirect reads path with O_DIRECT, so that every byte comes from the
// nodes and not the page cache, calling mid once after the first 4 MiB.
func readDirect(path string, mid func()) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var out bytes.Buffer
	buf := make([]byte, 1<<20)
	for {
		n, err := f.Read(buf)
		out.Write(buf[:n])
		if out.Len() == 4<<20 && mid != nil {
			mid()
		}
		if errors.Is(err, io.EOF) {
			return out.Bytes(), nil
		}
		if err != nil {
			return out.Bytes(), err
		}
	}
}

func TestNodeStoppedDuringRead(t *testing.T) {
	t.Parallel()
	c, cl, mp := setup(t)
	want := putRandom(t, cl, "big", 20<<20)
	for n := 0; n < core.NumNodes; n++ {
		got, err := readDirect(filepath.Join(mp, "big"), func() { c.Stop(n) })
		if err != nil {
			t.Fatalf("DFS%d stopped: read: %v", n+1, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("DFS%d stopped: read %d bytes that differ from what was written", n+1, len(got))
		}
		c.Restart(n)
	}
}

func TestTwoNodesStopped(t *testing.T) {
	t.Parallel()
	c, cl, mp := setup(t)
	putRandom(t, cl, "f", 1<<20)
	c.Stop(1)
	c.Stop(2) // adjacent nodes share a chunk: it has no copy left
	_, err := readDirect(filepath.Join(mp, "f"), nil)
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("read with DFS2 and DFS3 stopped: %v, want EIO", err)
	}
}

func TestAllNodesStopped(t *testing.T) {
	t.Parallel()
	c, _, mp := setup(t)
	os.WriteFile(filepath.Join(mp, "before"), []byte("x"), 0o644)
	for n := 0; n < core.NumNodes; n++ {
		c.Stop(n)
	}
	start := time.Now()
	_, err := os.ReadDir(mp)
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("readdir with all nodes stopped: %v, want EIO", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("failing took %v", d)
	}
	for n := 0; n < core.NumNodes; n++ {
		c.Restart(n)
	}
	eventually(t, 10*time.Second, "mount did not recover", func() error {
		return os.WriteFile(filepath.Join(mp, "after"), []byte("y"), 0o644)
	})
	readBack(t, filepath.Join(mp, "before"), []byte("x"))
}

// TestNoXattrs: the mount answers extended attribute requests with ENOSYS,
// so the kernel stops sending them: ls -l, which asks for two of every
// file, costs no round trips for them.
func TestNoXattrs(t *testing.T) {
	t.Parallel()
	_, cl, _ := setup(t)
	opts := testOptions(t)
	root := NewRoot(cl, opts).(*Dir)
	mp := mountRootT(t, root, opts)
	if err := os.WriteFile(filepath.Join(mp, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		for _, a := range []string{"security.selinux", "system.posix_acl_access", "user.dfs.status"} {
			if _, err := syscall.Getxattr(filepath.Join(mp, "f"), a, make([]byte, 64)); err == nil {
				t.Fatalf("getxattr %s succeeded", a)
			}
		}
		if _, err := syscall.Listxattr(filepath.Join(mp, "f"), make([]byte, 64)); err == nil {
			t.Fatal("listxattr succeeded")
		}
		if err := syscall.Setxattr(filepath.Join(mp, "f"), "user.x", []byte("v"), 0); !errors.Is(err, syscall.ENOTSUP) {
			t.Fatalf("setxattr: %v, want ENOTSUP", err)
		}
	}
	if n := root.sys.xattrCalls.Load(); n > 3 {
		t.Errorf("%d extended attribute requests reached the mount; the kernel should stop after one of each kind", n)
	}
}
