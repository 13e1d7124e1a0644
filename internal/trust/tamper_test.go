package trust_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"dfs/internal/testcluster"
)

// file is one file of a tamper case: its true bytes, and where a ranged
// read of 4 KiB looks (over the tampered bytes, where the case knows them).
type file struct {
	name   string
	data   []byte
	at     int64
	absent bool // the file is not there: it must be found on no node (DFS1 forges it)
}

func newFile(name string, data []byte) file {
	return file{name: name, data: data, at: int64(len(data)/2) &^ 4095}
}

// tamperCase stores its files through dfc and returns them with what it
// does to a stopped node's data folder (which may move a file's at).
type tamperCase struct {
	name  string
	live  bool // tamper while the node runs (its index of what it holds stays as it was), not stopped
	setup func(r *rig) (files []file, tamper func(nodeDir string, files []file))
	// What must name DFS1 afterwards (nil: nothing): the mount's
	// .dfs-status after reads with DFS1 the only holder of its chunks, and
	// dfc status with every node up.
	mountSees, dfcSees *regexp.Regexp
}

// forgedRE is how dfc status and the mount's .dfs-status name a node that
// served what failed authentication.
var forgedRE = regexp.MustCompile(`DFS1 served [^\n]*failed authentication`)

// quarantineRE is how dfc status names a node that found a chunk file
// changed while it was stopped itself (a node hashes every chunk it serves
// whole, against the header its index was built from) and set it aside.
var quarantineRE = regexp.MustCompile(`(?m)^DFS1 .*bad copies in quarantine`)

// TestTamper changes DFS1's data folder while it is stopped (or, as a node
// running changed software would serve it, while it runs), as its
// operator could, and checks that neither dfc nor the mount ever returns
// the tampered bytes: with DFS1 and DFS3 alone (so every chunk DFS1 holds
// comes from it) they return the true bytes or fail loudly; with all four
// they return the true bytes from the other copies; dfc status or the
// mount's .dfs-status names DFS1; and after dfc heal the other three nodes
// still serve the true files.
func TestTamper(t *testing.T) {
	for _, tc := range tamperCases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			files, tamper := tc.setup(r)
			if tc.live {
				tamper(r.Dir(0), files)
			} else {
				r.Kill(0)
				tamper(r.Dir(0), files)
				r.Restart(0)
			}

			r.Kill(1)
			r.Kill(3)
			status := r.checkReads(files, false)
			if tc.mountSees != nil && !tc.mountSees.MatchString(status) {
				t.Errorf("the mount's .dfs-status does not name DFS1:\n%s", status)
			}
			r.Restart(1)
			r.Restart(3)
			r.checkReads(files, true)
			if st := r.dfc("status"); tc.dfcSees != nil && (st.Code == 0 || !tc.dfcSees.MatchString(st.Stdout)) {
				t.Errorf("dfc status: exit %d, does not name DFS1:\n%s%s", st.Code, st.Stdout, st.Stderr)
			}

			heal := r.dfc("heal")
			t.Logf("dfc heal: exit %d\n%s%s", heal.Code, heal.Stdout, heal.Stderr)
			r.Kill(0)
			for _, f := range files {
				if f.absent {
					r.checkAbsent(f.name)
				} else {
					r.mustGet(f.name, f.data)
				}
			}
		})
	}
}

// checkReads reads every file whole through dfc get and through a fresh
// mount, and 4 KiB at its at through the mount. None may return other
// bytes than the true ones; with must, each must return them. It returns
// the mount's .dfs-status after the reads.
func (r *rig) checkReads(files []file, must bool) string {
	r.t.Helper()
	check := func(how string, f file, got, want []byte, err error) {
		r.t.Helper()
		switch {
		case err == nil && !bytes.Equal(got, want):
			r.t.Errorf("%s %s: returned %d bytes that are not the true ones", how, f.name, len(got))
		case err != nil && must:
			r.t.Errorf("%s %s with every node up: %v", how, f.name, err)
		case err != nil:
			r.t.Logf("%s %s failed (loudly, as it may): %v", how, f.name, err)
		}
	}
	for _, f := range files {
		if f.absent {
			r.checkAbsent(f.name)
			continue
		}
		got, fail := r.get(f.name)
		var err error
		if fail != nil {
			err = &dfcError{*fail}
		}
		check("dfc get", f, got, f.data, err)
	}
	mp, unmount := testcluster.Mount(r.t, r.conf, password)
	defer unmount()
	for _, f := range files {
		if f.absent {
			if b, err := os.ReadFile(filepath.Join(mp, f.name)); err == nil {
				r.t.Errorf("%s, which only DFS1 has, read through the mount: %d bytes", f.name, len(b))
			}
			des, _ := os.ReadDir(filepath.Join(mp, filepath.Dir(f.name)))
			for _, de := range des {
				if de.Name() == filepath.Base(f.name) {
					r.t.Errorf("the mount lists %s, which only DFS1 has", f.name)
				}
			}
			continue
		}
		got, err := os.ReadFile(filepath.Join(mp, f.name))
		check("read through the mount", f, got, f.data, err)
		got, err = readAt(filepath.Join(mp, f.name), f.at, 4096)
		check("4 KiB read through the mount", f, got, f.data[f.at:min(f.at+4096, int64(len(f.data)))], err)
	}
	status, err := os.ReadFile(filepath.Join(mp, ".dfs-status"))
	if err != nil {
		r.t.Errorf("the mount's .dfs-status: %v", err)
	}
	return string(status)
}

// readAt reads n bytes at off of the file at path, as dd bs=n skip=off
// count=1 would. A short read is what it returned, not an error: a read
// that ends early without one (which the kernel takes for the end of the
// file) is a silent failure.
func readAt(path string, off int64, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := f.ReadAt(b, off)
	if err == io.EOF {
		err = nil // a short read, which is no failure: the caller compares what came
	}
	return b[:k], err
}

// dfcError is a dfc run that exited non-zero.
type dfcError struct{ testcluster.Result }

func (e *dfcError) Error() string {
	return fmt.Sprintf("dfc exit %d: %s", e.Code, e.Stderr)
}

// checkAbsent checks that dfc neither lists nor gets name.
func (r *rig) checkAbsent(name string) {
	r.t.Helper()
	if b, fail := r.get(name); fail == nil {
		r.t.Errorf("dfc get %s, which only DFS1 has: %d bytes", name, len(b))
	}
	if ls := r.dfc("ls"); strings.Contains(ls.Stdout, name) {
		r.t.Errorf("dfc ls lists %s, which only DFS1 has:\n%s", name, ls.Stdout)
	}
}
