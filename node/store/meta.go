package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"

	"dfs/core"
	"dfs/core/wire"
)

// maxMetaSize caps an @meta file, read or written. The largest record is
// a file of the largest size (256 GiB: 65,536 segments), each segment
// taking about 490 bytes of JSON: 31.9 MB measured (TestMetaMaxFile), so
// the cap leaves twice that. A meta over it is refused when written and
// is an error when read, never cut short: a record read in part would
// lose the references of the segments it lists.
const maxMetaSize = 64 << 20

// errMetaTooLarge is a meta over maxMetaSize.
var errMetaTooLarge = errors.New("meta too large")

// metaNewName holds an entry's newest meta until a flush made it durable
// and renamed it over @meta (see flush.go): after a crash, a valid @meta.new
// is the newer one, a torn one is ignored and @meta still holds the last
// durable state.
const metaNewName = "@meta.new"

// readMeta returns the entry directory rel's record without its inline
// chunks (from the cache when known), nil when it has no meta, and the
// mask of the chunks the record on disk keeps inline (readFull has them).
func (u *UserDir) readMeta(rel string) (*Record, uint8, error) {
	if cm, ok := u.cache.get(rel); ok {
		return cm.meta, cm.inline, nil
	}
	gen := u.cache.begin()
	var pm struct {
		Record
		Inline map[int]skipJSON `json:"inline,omitempty"`
	}
	found, err := u.decodeMeta(rel, &pm)
	if err != nil {
		return nil, 0, err
	}
	if !found {
		u.cache.fill(rel, nil, 0, gen)
		return nil, 0, nil
	}
	m := pm.Record
	var inline uint8
	for c := range pm.Inline {
		if c >= 0 && c < core.NumChunks {
			inline |= 1 << c
		}
	}
	u.cache.fill(rel, &m, inline, gen)
	return &m, inline, nil
}

// readFull returns rel's whole record, inline chunks included, or nil when
// there is none.
func (u *UserDir) readFull(rel string) (*Record, error) {
	var m Record
	if found, err := u.decodeMeta(rel, &m); !found || err != nil {
		return nil, err
	}
	return &m, nil
}

// skipJSON is a field whose value is scanned and dropped (not decoded); it
// notes whether there was one.
type skipJSON bool

func (s *skipJSON) UnmarshalJSON(b []byte) error {
	*s = string(b) != "null"
	return nil
}

// decodeMeta decodes rel's newest meta into v: @meta.new when it is whole,
// else @meta. found is false where there is neither.
func (u *UserDir) decodeMeta(rel string, v any) (found bool, err error) {
	data, err := u.readMetaFile(rel + "/" + metaNewName)
	if err == nil && data != nil && json.Unmarshal(data, v) == nil {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	data, err = u.readMetaFile(rel + "/" + metaName)
	if err != nil || data == nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("read %s/%s: %w", rel, metaName, err)
	}
	return true, nil
}

// readMetaFile returns the contents of a meta file, nil when it does not
// exist.
func (u *UserDir) readMetaFile(name string) ([]byte, error) {
	f, err := u.root.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%s: %w", name, ErrSymlink)
		}
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", name, ErrSymlink)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxMetaSize+1))
	if err == nil && len(data) > maxMetaSize {
		return nil, fmt.Errorf("%s: %w (over %d bytes)", name, errMetaTooLarge, maxMetaSize)
	}
	return data, err
}

// writeMeta makes m the record of the entry directory rel. It is written to
// a temporary file and renamed to @meta.new at once (readers see it); the
// flusher fsyncs it and renames it over @meta. Without a flusher it goes
// straight to a durable @meta.
func (u *UserDir) writeMeta(rel string, m *Record) error {
	mm := *m
	data, err := json.Marshal(&mm)
	if err != nil {
		return err
	}
	if len(data) > maxMetaSize {
		// Written, it could not be read back.
		return fmt.Errorf("%s: %w: %d bytes, at most %d", rel, errMetaTooLarge, len(data), maxMetaSize)
	}
	if u.fl != nil {
		// Most often there is no @meta.new (the last one was flushed):
		// write it in place. A crash tears it at worst, and a torn
		// @meta.new is ignored. Readers that meet it half written take
		// @meta meanwhile; the flusher cannot (it opens under u.mu).
		f, err := u.root.OpenFile(rel+"/"+metaNewName, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
		if err == nil {
			_, err = f.Write(data)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				_ = u.root.Remove(rel + "/" + metaNewName)
				u.cache.dropTree(rel)
				return err
			}
			u.cache.set(rel, &mm, inlineMask(&mm))
			u.wrote(rel)
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	// Replace the file whole (a flush may be fsyncing the one there).
	tmp := rel + "/@meta.tmp-" + randHex(8)
	f, err := u.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && u.fl == nil {
		err = f.Sync()
	}
	dest := metaNewName
	if u.fl == nil {
		dest = metaName
	}
	if err == nil {
		err = u.root.Rename(tmp, rel+"/"+dest)
	}
	if err != nil {
		f.Close()
		_ = u.root.Remove(tmp)
		u.cache.dropTree(rel)
		return err
	}
	f.Close()
	u.cache.set(rel, &mm, inlineMask(&mm))
	if u.fl != nil {
		u.wrote(rel)
		return nil
	}
	// Offline: a leftover @meta.new would hide the @meta just written.
	if err := u.root.Remove(rel + "/" + metaNewName); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return u.syncDir(rel)
}

// step is one component of a resolved user path.
type step struct {
	path   string  // user path up to this component
	rel    string  // its directory relative to the user's root
	exists bool    // the directory exists
	meta   *Record // its record without inline chunks, nil if none
	inline uint8   // the chunks its record on disk keeps inline (see full)
}

// full returns the step's record with its inline chunks, reading them from
// disk only when it has some.
func (u *UserDir) full(st *step) (*Record, error) {
	if st.inline == 0 || st.meta == nil {
		return st.meta, nil
	}
	m, err := u.readFull(st.rel)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("%s: meta vanished", st.rel)
	}
	return m, nil
}

// walk resolves every prefix of the cleaned non-root path p from the top,
// refusing symlinks on the way. Steps after the first missing directory have
// exists false.
func (u *UserDir) walk(p string) ([]step, error) {
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
		if cm, ok := u.cache.get(rel); ok {
			steps[i].exists, steps[i].meta, steps[i].inline = true, cm.meta, cm.inline
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
		if steps[i].meta, steps[i].inline, err = u.readMeta(rel); err != nil {
			return nil, err
		}
	}
	return steps, nil
}

// chain returns the metas of the steps, with Path set, up to the first one
// missing.
func (u *UserDir) chain(steps []step) []wire.Meta {
	out := []wire.Meta{}
	for _, s := range steps {
		if s.meta == nil {
			break
		}
		out = append(out, s.meta.meta(s.path, u.held(s.meta, s.inline)))
	}
	return out
}

// live reports whether m is an entry that is not a tombstone.
func live(m *Record) bool { return m != nil && !m.Deleted }

// readDir lists directory rel sorted by name, with the types the
// directory itself records (no stat per name).
func (u *UserDir) readDir(rel string) ([]fs.DirEntry, error) {
	f, err := u.root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return ents, err
}

// readNames lists the names in directory rel.
func (u *UserDir) readNames(rel string) ([]string, error) {
	f, err := u.root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
