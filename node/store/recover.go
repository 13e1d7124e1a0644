package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// recoverAll brings every user's folder to a consistent state before the
// node serves, after a crash as after a clean stop, and builds each user's
// segment index (segindex.go) on the way:
//   - an entry's @meta.new (a change acknowledged but maybe not yet on disk
//     when the node stopped) is kept if it is whole and made durable as
//     @meta; a torn one is removed, and @meta, the last durable state,
//     stands;
//   - the live records' segments are counted as references; the chunk
//     files of segments no record lists are deleted (the change that
//     released them is durable, and their readers are gone with the
//     restart), and those of segments new in a kept @meta.new are verified
//     completely (data not yet flushed may be torn: bad ones are removed,
//     and heal copies them back);
//   - leftover temporary files are removed, and so are staged uploads:
//     their connections are gone.
//
// It runs without a flusher: what it writes is durable at once.
func (st *Store) recoverAll() {
	root := filepath.Join(st.dir, usersDir)
	users, err := os.ReadDir(root)
	if err != nil {
		st.log.Warn("list users for recovery", "err", err)
		return
	}
	for _, e := range users {
		if !e.IsDir() || !ValidUser(e.Name()) {
			continue
		}
		u, err := openUserDir(st.dir, e.Name(), nil, st.log)
		if err != nil {
			st.log.Error("recovery: open user folder", "user", e.Name(), "err", err)
			continue
		}
		r := &recoverer{log: st.log, u: u, fresh: map[string]bool{}}
		if err := r.entry(filesDir); err != nil {
			// Some references may be missing: delete no segment.
			st.log.Error("recovery failed: no segment will be deleted until the next start", "user", e.Name(), "err", err)
			u.segs.refsOK = false
		}
		r.segments()
		r.staging()
		st.recovered[e.Name()] = recovered{segs: u.segs, inline: r.inline}
		u.close()
		if r.removed+r.dropped+r.kept+r.torn > 0 {
			st.log.Info("recovered after a stop", "user", e.Name(), "changes kept", r.kept,
				"torn changes dropped", r.dropped, "unreferenced chunk files deleted", r.removed, "torn chunk files removed", r.torn)
		}
	}
}

// recovered is what recovery learnt of a user, until the user's folder
// opens and takes it.
type recovered struct {
	segs   *segIndex
	inline int64 // bytes the records keep inline (usage.go)
}

type recoverer struct {
	log                          *slog.Logger
	u                            *UserDir
	fresh                        map[string]bool // segments listed by a kept @meta.new and not by the @meta it replaced
	kept, dropped, removed, torn int
	inline                       int64
}

// entry recovers the entry directory rel and everything under it.
func (r *recoverer) entry(rel string) error {
	u := r.u
	ents, err := u.readDir(rel)
	if err != nil {
		return err
	}
	hasNew := false
	for _, de := range ents {
		n := de.Name()
		switch {
		case n == metaNewName:
			hasNew = true
		case strings.HasPrefix(n, "@meta.tmp-"):
			_ = u.root.Remove(rel + "/" + n)
		case de.IsDir():
			if _, ok := unescapeComponent(n); ok {
				if err := r.entry(rel + "/" + n); err != nil {
					return err
				}
			}
		}
	}
	if rel == filesDir {
		return nil
	}
	if hasNew {
		if err := r.recoverNew(rel); err != nil {
			return err
		}
	}
	cur, err := u.readFull(rel)
	if err != nil {
		r.log.Warn("recovery: unreadable meta", "user", u.user, "entry", rel, "err", err)
		return nil
	}
	if isFile(cur) {
		u.segs.ref(segmentIDs(cur))
		r.inline += inlineBytes(cur)
	}
	return nil
}

// recoverNew keeps a whole @meta.new as the entry's durable meta, noting
// the segments it lists that @meta did not (their chunk files may be
// torn), and removes a torn one.
func (r *recoverer) recoverNew(rel string) error {
	u := r.u
	name := rel + "/" + metaNewName
	data, err := u.readMetaFile(name)
	if err != nil {
		return err
	}
	var m Record
	if data == nil || json.Unmarshal(data, &m) != nil {
		// Torn: @meta, the last durable state, stands.
		r.dropped++
		return u.root.Remove(name)
	}
	var prev Record
	had := map[string]bool{}
	if b, err := u.readMetaFile(rel + "/" + metaName); err == nil && b != nil && json.Unmarshal(b, &prev) == nil {
		for _, id := range segmentIDs(&prev) {
			had[id] = true
		}
	}
	for _, id := range segmentIDs(&m) {
		if !had[id] {
			r.fresh[id] = true
		}
	}
	r.kept++
	return u.writeMeta(rel, &m) // durable @meta; removes @meta.new
}

// segments goes through the segments folder: chunk files of segments no
// record lists are deleted, those of fresh segments verified, and the
// others' headers read into the index.
func (r *recoverer) segments() {
	u := r.u
	dirs, err := u.readDir(segmentsDir)
	if err != nil {
		r.log.Error("recovery: list segments", "user", u.user, "err", err)
		u.segs.refsOK = false
		return
	}
	for _, d := range dirs {
		if !d.IsDir() || !validSegFolder(d.Name()) {
			continue
		}
		dir := segmentsDir + "/" + d.Name()
		names, err := u.readNames(dir)
		if err != nil {
			r.log.Error("recovery: list segments", "user", u.user, "folder", dir, "err", err)
			u.segs.refsOK = false
			continue
		}
		changed := false
		for _, n := range names {
			if r.chunkFile(dir, n) {
				changed = true
			}
		}
		if changed {
			_ = u.syncDir(dir)
		}
	}
}

// chunkFile recovers the file name in the segments folder dir and
// reports whether it removed it.
func (r *recoverer) chunkFile(dir, name string) bool {
	u := r.u
	rel := dir + "/" + name
	id, c, ok := parseChunkBase(name)
	switch {
	case !ok && strings.Contains(name, ".tmp-"):
		_ = u.root.Remove(rel)
		return true
	case !ok:
		return false // not the node's: left alone
	case u.segs.refs(id) == 0 && u.segs.refsOK:
		if err := u.root.Remove(rel); err == nil {
			r.removed++
			return true
		}
		return false
	}
	cf, err := u.openChunk(rel)
	if err == nil && r.fresh[id] {
		err = cf.verify(nil)
		if err == nil {
			err = cf.f.Sync() // durable before the @meta.new made durable names it
		}
	}
	if cf != nil {
		cf.f.Close()
		if err == nil && cf.hdr.Index != c {
			err = fmt.Errorf("%w: header says chunk %d", ErrCorrupt, cf.hdr.Index)
		}
	}
	switch {
	case err == nil:
		u.segs.addChunk(id, c, cf.hdr.Size, cf.hdr.SHA256)
		return false
	case r.fresh[id] && errors.Is(err, ErrCorrupt):
		// Torn by the stop: its data had not reached the disk yet.
		r.log.Warn("recovery: removing a chunk file torn by the stop (heal copies it back)", "user", u.user, "file", rel, "err", err)
		_ = u.root.Remove(rel)
		r.torn++
		return true
	case errors.Is(err, ErrCorrupt):
		r.log.Warn("recovery: a bad chunk file goes to quarantine (heal copies it back)", "user", u.user, "file", rel, "err", err)
		_, qerr := u.quarantineFile(rel, id, c)
		return qerr == nil
	}
	r.log.Error("recovery: read a chunk file", "user", u.user, "file", rel, "err", err)
	return false
}

// staging removes every upload left in the staging folder: an upload
// does not outlive the connections of its user (budget.go), and a stop
// closed them all.
func (r *recoverer) staging() {
	u := r.u
	names, err := u.readNames(stagingDir)
	if err != nil {
		return
	}
	for _, n := range names {
		// The users' quota use counts no staged file from here on
		// (usage.go): one left behind is the node's trouble.
		if err := u.root.Remove(stagingDir + "/" + n); err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.log.Warn("recovery: cannot remove an upload never committed", "user", u.user, "file", n, "err", err)
		}
	}
	if len(names) > 0 {
		r.log.Info("recovery: removed uploads that were never committed", "user", u.user, "files", len(names))
	}
}
