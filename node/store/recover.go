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
	"time"
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
//     restart), and those a kept @meta.new's commit may have moved in
//     (its segments new to it, and those whose chunk files changed since
//     @meta was written: a heal) are verified completely (data not yet
//     flushed may be torn: bad ones are removed, and heal copies them
//     back);
//   - leftover temporary files are removed, and so are staged uploads:
//     their connections are gone.
//
// A record recovery cannot read (not JSON, over maxMetaSize, an I/O
// error) or a folder it cannot list leaves references uncounted: the user's
// segment index is then marked (refsOK false) and no chunk file of the
// user is deleted until a start that reads everything. A user whose folder
// or segments folder cannot be opened or listed has no index at all: the
// user is not served (Store.User retries at each login; until then it
// refuses with ErrNotRecovered), rather than served as if they held
// nothing.
//
// It runs without a flusher: what it writes is durable at once. It fails
// only when the users folder cannot be listed (the node must not start).
func (st *Store) recoverAll() error {
	root := filepath.Join(st.dir, usersDir)
	users, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("recovery: list the users folder: %w", err)
	}
	for _, e := range users {
		if !e.IsDir() || !ValidUser(e.Name()) {
			continue
		}
		rec, err := st.recoverUser(e.Name())
		if err != nil {
			st.log.Error("recovery: cannot recover the user's folder; the user is refused until a login finds it readable", "user", e.Name(), "err", err)
			st.unrecovered[e.Name()] = err
			continue
		}
		st.recovered[e.Name()] = rec
	}
	return nil
}

// recoverUser recovers one user's folder (see recoverAll). It fails when
// the user's index of chunk files cannot be built: the folder or its
// segments folder cannot be opened or listed.
func (st *Store) recoverUser(user string) (recovered, error) {
	u, err := openUserDir(st.dir, user, nil, st.log)
	if err != nil {
		return recovered{}, err
	}
	defer u.close()
	r := &recoverer{log: st.log, u: u, verify: map[string]time.Time{}}
	r.entry(filesDir)
	if r.failed > 0 {
		// Some references may be missing: delete no segment.
		st.log.Error("recovery: records could not be read: no chunk file of the user will be deleted until a start that reads them all",
			"user", user, "unreadable", r.failed)
		u.segs.refsOK = false
	}
	if err := r.segments(); err != nil {
		return recovered{}, err
	}
	r.staging()
	if r.removed+r.dropped+r.kept+r.torn > 0 {
		st.log.Info("recovered after a stop", "user", user, "changes kept", r.kept,
			"torn changes dropped", r.dropped, "unreferenced chunk files deleted", r.removed, "torn chunk files removed", r.torn)
	}
	return recovered{segs: u.segs, inline: r.inline}, nil
}

// recovered is what recovery learnt of a user, until the user's folder
// opens and takes it.
type recovered struct {
	segs   *segIndex
	inline int64 // bytes the records keep inline (usage.go)
}

type recoverer struct {
	log *slog.Logger
	u   *UserDir
	// Segments listed by a kept @meta.new whose chunk files may have
	// been moved in after the entry's last flush: those changed (ctime)
	// at or after the time given are verified; all of them for a zero
	// time (a segment the @meta it replaced did not list: fresh).
	verify                       map[string]time.Time
	kept, dropped, removed, torn int
	failed                       int // records or folders that could not be read: references may be missing
	inline                       int64
}

// entry recovers the entry directory rel and everything under it. What
// it cannot read is logged and counted in r.failed, and the walk goes on.
func (r *recoverer) entry(rel string) {
	u := r.u
	ents, err := u.readDir(rel)
	if err != nil {
		r.log.Error("recovery: cannot list a folder", "user", u.user, "entry", rel, "err", err)
		r.failed++
		return
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
				r.entry(rel + "/" + n)
			}
		}
	}
	if rel == filesDir {
		return
	}
	if hasNew {
		if err := r.recoverNew(rel); err != nil {
			r.log.Error("recovery: cannot read or keep a change not yet flushed", "user", u.user, "entry", rel, "err", err)
			r.failed++
			return
		}
	}
	cur, err := u.readFull(rel)
	if err != nil {
		r.log.Error("recovery: unreadable meta", "user", u.user, "entry", rel, "err", err)
		r.failed++
		return
	}
	if isFile(cur) {
		u.segs.ref(segmentIDs(cur))
		r.inline += inlineBytes(cur)
	}
}

// recoverNew keeps a whole @meta.new as the entry's durable meta, noting
// the segments it lists that @meta did not (their chunk files may be
// torn), and removes a torn one (not JSON). One it cannot read (an I/O
// error, over maxMetaSize) stays as it is, an error.
func (r *recoverer) recoverNew(rel string) error {
	u := r.u
	name := rel + "/" + metaNewName
	data, err := u.readMetaFile(name)
	if err != nil || data == nil {
		return err
	}
	var m Record
	if err := json.Unmarshal(data, &m); err != nil {
		// Torn: @meta, the last durable state, stands. The change was
		// never reported durable (a flush promotes a @meta.new before
		// it says so), and the segments only it listed go with it. (It
		// was read whole: one over the cap or unreadable is an error
		// above, never taken for torn.)
		r.log.Warn("recovery: removing a torn change never flushed", "user", u.user, "entry", rel, "err", err)
		r.dropped++
		return u.root.Remove(name)
	}
	var prev Record
	had := map[string]bool{}
	b, err := u.readMetaFile(rel + "/" + metaName)
	if err != nil {
		return err // @meta.new stays; @meta's references are unknown
	}
	if b != nil && json.Unmarshal(b, &prev) == nil {
		for _, id := range segmentIDs(&prev) {
			had[id] = true
		}
	}
	// The segments @meta lists too may have chunk files a commit after
	// the last flush moved in (a heal adds chunks under the same list):
	// those were renamed into place after @meta was (flush.go promotes
	// @meta.new only with the chunk files registered before it), so
	// their ctime is not older than @meta's. The margin covers coarse
	// file clocks.
	var since time.Time
	if fi, err := u.root.Lstat(rel + "/" + metaName); err == nil {
		if ct, ok := changeTime(fi); ok {
			since = ct.Add(-ctimeMargin)
		}
	}
	for _, id := range segmentIDs(&m) {
		t := since
		if !had[id] {
			t = time.Time{}
		}
		if old, ok := r.verify[id]; !ok || t.Before(old) {
			r.verify[id] = t
		}
	}
	r.kept++
	return u.writeMeta(rel, &m) // durable @meta; removes @meta.new
}

// segments goes through the segments folder: chunk files of segments no
// record lists are deleted, those moved in since the last flush verified, and the
// others' headers read into the index. It fails when a folder cannot be
// listed: the index would miss chunk files the user holds.
func (r *recoverer) segments() error {
	u := r.u
	dirs, err := u.readDir(segmentsDir)
	if err != nil {
		return fmt.Errorf("list the segments folder: %w", err)
	}
	for _, d := range dirs {
		if !d.IsDir() || !validSegFolder(d.Name()) {
			continue
		}
		dir := segmentsDir + "/" + d.Name()
		names, err := u.readNames(dir)
		if err != nil {
			return fmt.Errorf("list %s: %w", dir, err)
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
	return nil
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
	check := err == nil && r.moved(id, cf)
	if check {
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
	case check && errors.Is(err, ErrCorrupt):
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

// ctimeMargin is how much older than an entry's @meta a chunk file's
// ctime may be and still be verified as moved in after it.
const ctimeMargin = 2 * time.Second

// moved reports whether the chunk file cf of segment id may have been
// moved in by a change not yet flushed (r.verify): its data may be torn.
func (r *recoverer) moved(id string, cf *ChunkFile) bool {
	since, ok := r.verify[id]
	if !ok {
		return false
	}
	if since.IsZero() {
		return true
	}
	fi, err := cf.f.Stat()
	if err != nil {
		return true
	}
	ct, ok := changeTime(fi)
	return !ok || !ct.Before(since)
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
