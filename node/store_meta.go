package node

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"dfs/core"
	"dfs/core/wire"
)

// maxMetaSize caps an @meta file read from disk.
const maxMetaSize = 1 << 20

// readMeta returns the @meta of the entry directory rel, or nil when there is
// none.
func (u *userStore) readMeta(rel string) (*wire.Meta, error) {
	var m wire.Meta
	if found, err := u.decodeMeta(rel, &m); !found || err != nil {
		return nil, err
	}
	m.Path = ""
	return &m, nil
}

// readPublicMeta reads rel's @meta without its node-only fields (inline
// chunks are skipped, not decoded): what LIST sends. It returns nil, nil
// where there is no @meta.
func (u *userStore) readPublicMeta(rel string) (*wire.Meta, error) {
	var pm struct {
		wire.Meta
		Inline     skipJSON `json:"inline,omitempty"`
		PrevInline skipJSON `json:"prev_inline,omitempty"`
	}
	if found, err := u.decodeMeta(rel, &pm); !found || err != nil {
		return nil, err
	}
	m := pm.Meta.Public()
	return &m, nil
}

// skipJSON is a field whose value is scanned and dropped.
type skipJSON struct{}

func (*skipJSON) UnmarshalJSON([]byte) error { return nil }

// decodeMeta decodes rel's @meta into v; found is false where there is none.
func (u *userStore) decodeMeta(rel string, v any) (found bool, err error) {
	name := rel + "/" + metaName
	ok, err := u.statFile(name)
	if err != nil || !ok {
		return false, err
	}
	f, err := u.root.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return false, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMetaSize))
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("read %s: %w", name, err)
	}
	return true, nil
}

// writeMeta replaces the @meta of rel atomically: temp file, fsync, rename,
// fsync of the directory.
func (u *userStore) writeMeta(rel string, m *wire.Meta) error {
	mm := *m
	mm.Path = ""
	data, err := json.Marshal(&mm)
	if err != nil {
		return err
	}
	tmp := rel + "/@meta.tmp-" + randHex(8)
	f, err := u.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = u.root.Rename(tmp, rel+"/"+metaName)
	}
	if err != nil {
		_ = u.root.Remove(tmp)
		return err
	}
	return u.syncDir(rel)
}

// step is one component of a resolved user path.
type step struct {
	path   string     // user path up to this component
	rel    string     // its directory relative to the user's root
	exists bool       // the directory exists
	meta   *wire.Meta // its @meta, nil if none
}

// walk resolves every prefix of the cleaned non-root path p from the top,
// refusing symlinks on the way. Steps after the first missing directory have
// exists false.
func (u *userStore) walk(p string) ([]step, error) {
	if p == "" {
		return nil, nil
	}
	parts := strings.Split(p, "/")
	steps := make([]step, len(parts))
	rel, path := filesDir, ""
	missing := false
	for i, c := range parts {
		rel += "/" + escapeComponent(c)
		path = core.Join(path, c)
		steps[i] = step{path: path, rel: rel}
		if missing {
			continue
		}
		ok, err := u.statDir(rel)
		if err != nil {
			return nil, err
		}
		if !ok {
			missing = true
			continue
		}
		steps[i].exists = true
		if steps[i].meta, err = u.readMeta(rel); err != nil {
			return nil, err
		}
	}
	return steps, nil
}

// chain returns the metas of the steps, with Path set, up to the first one
// missing.
func chain(steps []step) []wire.Meta {
	out := []wire.Meta{}
	for _, s := range steps {
		if s.meta == nil {
			break
		}
		m := s.meta.Public()
		m.Path = s.path
		out = append(out, m)
	}
	return out
}

// live reports whether m is an entry that is not a tombstone.
func live(m *wire.Meta) bool { return m != nil && !m.Deleted }

// chunkName is the file name of chunk n of content version ver.
func chunkName(ver string, n int) string { return fmt.Sprintf("@%s.c%d", ver, n) }

// parseChunkName splits a chunk file name into version and chunk index.
func parseChunkName(name string) (string, int, bool) {
	if len(name) != 1+24+3 || name[0] != '@' || name[25:27] != ".c" {
		return "", 0, false
	}
	ver, c := name[1:25], name[27]
	if !core.ValidVersion(ver) || c < '0' || c > '3' {
		return "", 0, false
	}
	return ver, int(c - '0'), true
}

// readNames lists the names in directory rel.
func (u *userStore) readNames(rel string) ([]string, error) {
	f, err := u.root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
