package store

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"dfs/core/wire"
)

// records are @meta files as the node writes them (docs/format.md), each
// with the meta a LIST of it at "d/x" sends (held aside): a file of two
// segments and a hole, a small file with inline chunks, a folder, a
// folder's tombstone (those three with the client's seal) and a folder the
// node made itself.
var records = []struct{ disk, listed string }{
	{`{"stamp":"18a2b3c4d5e6f7a8deadbeef","born":"17f0000000000000cafef00d","version":"18a2b3c4d5e6f7a8deadbeef","size":8388618,"mode":420,"mtime":1700000000123456789,"segments":[{"index":0,"id":"18a2b3c4d5e6f7a8deadbeef","size":10,"md5":"d41d8cd98f00b204e9800998ecf8427e","chunks":[{"size":2,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":3,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":2,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":3,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]},{"index":2,"id":"18a2b3c4d5e6f7a8deadbef0","size":10,"md5":"d41d8cd98f00b204e9800998ecf8427f","chunks":[{"size":2,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":3,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":2,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":3,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]}],"seal":"q7Zk3c9XbVhY0wRr2T1uN5mA8sLpE4oFdGiJx6yHzK0"}`,
		`{"path":"d/x","stamp":"18a2b3c4d5e6f7a8deadbeef","born":"17f0000000000000cafef00d","version":"18a2b3c4d5e6f7a8deadbeef","size":8388618,"mode":420,"mtime":1700000000123456789,"segments":[{"index":0,"id":"18a2b3c4d5e6f7a8deadbeef","size":10,"md5":"d41d8cd98f00b204e9800998ecf8427e","chunks":[{"size":2,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":3,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":2,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":3,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]},{"index":2,"id":"18a2b3c4d5e6f7a8deadbef0","size":10,"md5":"d41d8cd98f00b204e9800998ecf8427f","chunks":[{"size":2,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":3,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":2,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":3,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]}],"seal":"q7Zk3c9XbVhY0wRr2T1uN5mA8sLpE4oFdGiJx6yHzK0"}`},
	{`{"stamp":"18a2b3c4d5e6f7a8deadbeef","born":"17f0000000000000cafef00d","version":"18a2b3c4d5e6f7a8deadbeef","size":10,"mode":420,"mtime":1700000000123456789,"segments":[{"index":0,"id":"18a2b3c4d5e6f7a8deadbeef","size":10,"md5":"d41d8cd98f00b204e9800998ecf8427e","chunks":[{"size":2,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":3,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":2,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":3,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]}],"inline":{"0":"aGk=","1":"dGhl","3":""}}`,
		`{"path":"d/x","stamp":"18a2b3c4d5e6f7a8deadbeef","born":"17f0000000000000cafef00d","version":"18a2b3c4d5e6f7a8deadbeef","size":10,"mode":420,"mtime":1700000000123456789,"segments":[{"index":0,"id":"18a2b3c4d5e6f7a8deadbeef","size":10,"md5":"d41d8cd98f00b204e9800998ecf8427e","chunks":[{"size":2,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":3,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":2,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"size":3,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]}]}`},
	{`{"dir":true,"stamp":"18a2b3c4d5e6f7a8deadbeef","born":"18a2b3c4d5e6f7a8deadbeef","size":0,"mode":493,"mtime":1,"seal":"q7Zk3c9XbVhY0wRr2T1uN5mA8sLpE4oFdGiJx6yHzK0"}`,
		`{"path":"d/x","dir":true,"stamp":"18a2b3c4d5e6f7a8deadbeef","born":"18a2b3c4d5e6f7a8deadbeef","size":0,"mode":493,"mtime":1,"seal":"q7Zk3c9XbVhY0wRr2T1uN5mA8sLpE4oFdGiJx6yHzK0"}`},
	{`{"dir":true,"deleted":true,"stamp":"18a2b3c4d5e6f7a8deadbeef","born":"17f0000000000000cafef00d","size":0,"mode":0,"mtime":0,"seal":"q7Zk3c9XbVhY0wRr2T1uN5mA8sLpE4oFdGiJx6yHzK0"}`,
		`{"path":"d/x","dir":true,"deleted":true,"stamp":"18a2b3c4d5e6f7a8deadbeef","born":"17f0000000000000cafef00d","size":0,"mode":0,"mtime":0,"seal":"q7Zk3c9XbVhY0wRr2T1uN5mA8sLpE4oFdGiJx6yHzK0"}`},
	{`{"dir":true,"stamp":"000000000000000000000001","born":"000000000000000000000001","size":0,"mode":493,"mtime":5}`,
		`{"path":"d/x","dir":true,"stamp":"000000000000000000000001","born":"000000000000000000000001","size":0,"mode":493,"mtime":5}`},
}

// TestRecordFormat: @meta files read back as the same records, are written
// again byte for byte, and list as the same metas; a meta a client sends
// becomes the same record.
func TestRecordFormat(t *testing.T) {
	dir := t.TempDir()
	u, err := openUserDir(dir, "alice", nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer u.close()
	rel := filesDir + "/d/x"
	for _, d := range []string{filesDir + "/d", rel} {
		if err := u.mkdir(d); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, usersDir, "alice", rel, metaName)
	for i, c := range records {
		var r Record
		if err := json.Unmarshal([]byte(c.disk), &r); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if b, _ := json.Marshal(&r); string(b) != c.disk {
			t.Errorf("%d: re-encoded\n got %s\nwant %s", i, b, c.disk)
		}
		if b, _ := json.Marshal(r.meta("d/x", nil)); string(b) != c.listed {
			t.Errorf("%d: listed as\n got %s\nwant %s", i, b, c.listed)
		}
		var sent wire.Meta
		if err := json.Unmarshal([]byte(c.listed), &sent); err != nil {
			t.Fatal(err)
		}
		back := recordOf(&sent)
		back.Inline = r.Inline
		if !reflect.DeepEqual(back, r) {
			t.Errorf("%d: from a meta\n got %+v\nwant %+v", i, back, r)
		}

		// Through the store: read from disk, then written back.
		u.cache = newMetaCache()
		if err := os.WriteFile(file, []byte(c.disk), 0o600); err != nil {
			t.Fatal(err)
		}
		full, err := u.readFull(rel)
		if err != nil || !reflect.DeepEqual(*full, r) {
			t.Fatalf("%d: readFull %+v %v", i, full, err)
		}
		pub, inline, err := u.readMeta(rel)
		want := r
		want.Inline = nil
		if err != nil || !reflect.DeepEqual(*pub, want) || inline != inlineMask(&r) {
			t.Errorf("%d: readMeta %+v inline %v %v", i, pub, inline, err)
		}
		if err := u.writeMeta(rel, full); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(file); err != nil || string(b) != c.disk {
			t.Errorf("%d: written back\n got %s\nwant %s (%v)", i, b, c.disk, err)
		}
	}
}
