package store

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"dfs/core"
)

// recoverAll brings every user's folder to a consistent state before the
// node serves, after a crash as after a clean stop:
//   - an entry's @meta.new (a change acknowledged but maybe not yet on disk
//     when the node stopped) is kept if it is whole, with its chunk files
//     verified, and made durable as @meta; a torn one is removed, and
//     @meta, the last durable state, stands;
//   - set-aside (superseded) chunk files of an entry's current version are
//     put back (the change that superseded them was lost), the others
//     deleted: their readers are gone with the restart;
//   - leftover temporary files are removed, and so are staged uploads:
//     their connections are gone.
//
// On the way it counts what each user's entries hold, where the users'
// usage counters start (usage.go).
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
		r := &recoverer{log: st.log, u: u, aside: map[string]bool{}}
		names, err := u.readNames(supersededDir)
		if err != nil {
			st.log.Error("recovery: list superseded chunks", "user", e.Name(), "err", err)
		}
		for _, n := range names {
			r.aside[n] = true
		}
		if err := r.entry(filesDir); err != nil {
			st.log.Error("recovery failed", "user", e.Name(), "err", err)
			r.bytes = u.sizeUnder(filesDir) + u.sizeUnder(supersededDir) // as the folder is
		} else {
			for n := range r.aside {
				_ = u.root.Remove(supersededDir + "/" + n)
			}
		}
		r.staging()
		st.recovered[e.Name()] = r.bytes
		u.close()
		if r.restored+r.dropped+r.kept > 0 {
			st.log.Info("recovered after a stop", "user", e.Name(), "changes kept", r.kept,
				"torn changes dropped", r.dropped, "chunks put back", r.restored)
		}
	}
}

type recoverer struct {
	log                     *slog.Logger
	u                       *UserDir
	aside                   map[string]bool // names in the superseded folder not put back (yet)
	kept, dropped, restored int
	bytes                   int64 // what the entries recovered so far hold (usage.go)
}

// entry recovers the entry directory rel and everything under it.
func (r *recoverer) entry(rel string) error {
	u := r.u
	ents, err := u.readDir(rel)
	if err != nil {
		return err
	}
	var chunks []string
	hasNew := false
	for _, de := range ents {
		n := de.Name()
		switch {
		case n == metaNewName:
			hasNew = true
		case strings.HasPrefix(n, "@meta.tmp-"):
			_ = u.root.Remove(rel + "/" + n)
		case strings.HasPrefix(n, "@") && !strings.HasPrefix(n, "@@") && n != metaName:
			chunks = append(chunks, n)
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
	// The meta that stands (a whole @meta.new, else @meta) first gets back
	// the chunk files a lost change had set aside, so that what it holds
	// is counted below.
	var m Record
	if found, err := u.decodeMeta(rel, &m); err == nil && found && live(&m) && !m.Dir {
		if err := r.putBack(rel, m.Version); err != nil {
			return err
		}
	}
	if hasNew {
		if err := r.recoverNew(rel); err != nil {
			return err
		}
	}
	cur, err := u.readFull(rel)
	if err != nil {
		r.log.Warn("recovery: unreadable meta", "user", u.user, "entry", rel, "err", err)
		cur = nil
	}
	// Chunk files of another version: a commit whose meta was lost.
	for _, n := range chunks {
		if ver, _, ok := parseChunkName(n); ok && !(live(cur) && !cur.Dir && cur.Version == ver) {
			_ = u.root.Remove(rel + "/" + n)
		}
	}
	// What stands now: the chunk files of cur's version (put back ones
	// included) and its inline chunks.
	r.bytes += inlineBytes(cur)
	if live(cur) && !cur.Dir {
		var names []string
		for n := 0; n < core.NumChunks; n++ {
			names = append(names, chunkName(cur.Version, n))
		}
		r.bytes += u.filesBytes(rel, names)
	}
	return nil
}

// putBack moves the set-aside chunk files of version ver back into the
// entry directory rel where it lacks them.
func (r *recoverer) putBack(rel, ver string) error {
	u := r.u
	restored := false
	for n := 0; n < core.NumChunks; n++ {
		name := chunkName(ver, n)
		if !r.aside[name] {
			continue
		}
		delete(r.aside, name)
		if present, _ := u.statFile(rel + "/" + name); present {
			continue
		}
		if err := u.root.Rename(supersededDir+"/"+name, rel+"/"+name); err != nil {
			return err
		}
		r.restored++
		restored = true
	}
	if restored {
		return u.syncDir(rel)
	}
	return nil
}

// recoverNew keeps a whole @meta.new as the entry's durable meta, holding
// only the chunks whose files verify, and removes a torn one.
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
	if live(&m) && !m.Dir {
		m.Held = r.verifiedHeld(rel, &m)
	}
	r.kept++
	return u.writeMeta(rel, &m) // durable @meta; removes @meta.new
}

// verifiedHeld returns the chunks of m in rel that verify completely (data
// not yet flushed when the node stopped may be torn); bad files are removed
// (the other copy is healed back).
func (r *recoverer) verifiedHeld(rel string, m *Record) []int {
	out := []int{}
	for _, n := range r.u.held(rel, m) {
		if inlineHeld(m, n) {
			out = append(out, n)
			continue
		}
		name := rel + "/" + chunkName(m.Version, n)
		cf, err := r.u.openChunk(name)
		if err == nil {
			err = cf.verify(nil)
			cf.f.Close()
		}
		if err == nil {
			out = append(out, n)
			continue
		}
		r.log.Warn("recovery: removing a chunk file torn by the stop", "user", r.u.user, "file", name, "err", err)
		_ = r.u.root.Remove(name)
	}
	return out
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
