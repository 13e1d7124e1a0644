package trust_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dfs/core"
	"dfs/internal/testcluster"
	"dfs/node/store"
)

// marker is in every name, content and symlink target TestMarker stores.
const marker = "MARKER-7f3a-secret"

// TestMarker stores names, contents and a symlink target holding a marker,
// through dfc and through a mount, and finds the marker nowhere on the
// nodes: in no file name and no file's bytes under any data folder (@meta,
// chunk files, staging, the wrapped key), nor in their dfs.conf or logs;
// nor the password.
func TestMarker(t *testing.T) {
	r := newRig(t)
	small := bytes.Repeat([]byte(marker+" in a file small enough to be kept inline. "), 100)
	big := bytes.Repeat([]byte(marker+" in a file of chunk files. "), 80<<10)
	r.put("small-"+marker+".txt", small)
	r.put("dir-"+marker+"/big-"+marker+".bin", big)

	mp, unmount := testcluster.Mount(t, r.conf, password)
	dir := filepath.Join(mp, "folder-"+marker)
	mounted := bytes.Repeat([]byte(marker+" through the mount. "), 5<<10)
	for _, err := range []error{
		os.Mkdir(dir, 0o755),
		os.WriteFile(filepath.Join(dir, "mounted-"+marker+".txt"), mounted, 0o644),
		os.Symlink("target-"+marker+"/x", filepath.Join(mp, "link-"+marker)),
		os.WriteFile(filepath.Join(mp, "from-"+marker), small, 0o644),
		os.Rename(filepath.Join(mp, "from-"+marker), filepath.Join(dir, "to-"+marker)), // a tombstone at from
		os.WriteFile(filepath.Join(mp, "gone-"+marker), small, 0o644),
		os.Remove(filepath.Join(mp, "gone-"+marker)), // a tombstone
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	unmount()

	r.mustGet("dir-"+marker+"/big-"+marker+".bin", big)
	r.mustGet("folder-"+marker+"/mounted-"+marker+".txt", mounted)
	if ls := r.ok("ls"); !strings.Contains(ls.Stdout, "link-"+marker) {
		t.Errorf("dfc ls lacks the symlink:\n%s", ls.Stdout)
	}

	noSecret(t, r)
	for n := 0; n < core.NumNodes; n++ {
		r.Stop(n) // whatever the nodes kept in memory is on disk now
	}
	noSecret(t, r)
}

// noSecret fails the test where the marker or alice's password is in a
// name or a file's bytes under a node's data folder, or in its dfs.conf or
// log.
func noSecret(t *testing.T, r *rig) {
	t.Helper()
	for n := 0; n < core.NumNodes; n++ {
		err := filepath.WalkDir(r.Dir(n), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.Contains(d.Name(), marker) {
				t.Errorf("the marker names %s", p)
			}
			if d.Type().IsRegular() {
				b, err := os.ReadFile(p)
				if err != nil && !os.IsNotExist(err) { // a staged chunk may go while we look
					return err
				}
				if holds(b) || inlineHas(b) {
					t.Errorf("the marker or the password is in %s", p)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		conf, err := os.ReadFile(r.NodeConfPath(n))
		if err != nil {
			t.Fatal(err)
		}
		if holds(conf) || holds([]byte(r.Log(n))) {
			t.Errorf("the marker or the password is in %s's dfs.conf or log", core.NodeName(n))
		}
	}
}

// holds reports whether b holds the marker or alice's password.
func holds(b []byte) bool {
	return bytes.Contains(b, []byte(marker)) || bytes.Contains(b, []byte(password))
}

// inlineHas reports whether b is an entry's record with the marker in its
// inline chunks, which @meta holds in base64.
func inlineHas(b []byte) bool {
	var rec store.Record
	if json.Unmarshal(b, &rec) != nil {
		return false
	}
	for _, c := range rec.Inline {
		if bytes.Contains(c, []byte(marker)) {
			return true
		}
	}
	return false
}
