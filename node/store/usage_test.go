package store

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// measured is what the user's folder holds, walked now: what the usage
// counter must always equal.
func measured(u *UserDir) int64 {
	return segmentsBytes(u) + inlineUnder(u, filesDir) + stagingBytes(u)
}

// segmentsBytes measures the chunk files in the segments folder.
func segmentsBytes(u *UserDir) int64 {
	var n int64
	dirs, _ := u.readNames(segmentsDir)
	for _, d := range dirs {
		names, _ := u.readNames(segmentsDir + "/" + d)
		for _, name := range names {
			if _, _, ok := parseChunkBase(name); ok {
				size, _ := u.regularSize(segmentsDir + "/" + d + "/" + name)
				n += size
			}
		}
	}
	return n
}

// inlineUnder measures the inline chunks of the records in the entry
// directory rel and under it.
func inlineUnder(u *UserDir, rel string) int64 {
	var n int64
	if m, err := u.readFull(rel); err == nil && m != nil {
		n += inlineBytes(m)
	}
	ents, _ := u.readDir(rel)
	for _, de := range ents {
		if _, ok := unescapeComponent(de.Name()); ok && de.IsDir() {
			n += inlineUnder(u, rel+"/"+de.Name())
		}
	}
	return n
}

// stagingBytes measures the staged chunk files in the staging folder (not
// the ones being written, which Reserve counts): what the uploads' count
// of them, which the usage counter takes, must equal.
func stagingBytes(u *UserDir) int64 {
	names, err := u.readNames(stagingDir)
	if err != nil {
		return 0
	}
	var n int64
	for _, name := range names {
		if !strings.Contains(name, ".tmp-") {
			size, _ := u.regularSize(stagingDir + "/" + name)
			n += size
		}
	}
	return n
}

// usageRig drives a user's folder through the store's operations.
type usageRig struct {
	t   *testing.T
	st  *Store
	u   *UserDir
	rnd *rand.Rand
}

// put stages a new version of p with up to three segments, some of them
// holes, the last one of size bytes, the others small (inline or in chunk
// files, as the protocol would), keeping the segments of base (a live
// version of p, or nil) at the indexes it does not rewrite, and commits it
// at p with the given stamp (a new one when ""); it returns the meta and
// the commit's error.
func (r *usageRig) put(p string, size int64, stamp string, base *wire.Meta) (wire.Meta, error) {
	r.t.Helper()
	ver := core.NewVersion()
	if stamp == "" {
		stamp = ver
	}
	nseg := int64(1 + r.rnd.IntN(3))
	m := wire.Meta{Stamp: stamp, Born: stamp, Version: ver, Size: (nseg-1)*core.SegmentSize + max(size, 1), Mode: 0o644}
	upload := randHex(16)
	kept := map[int64]wire.Segment{}
	if base != nil {
		for _, sg := range base.Segments {
			kept[sg.Index] = sg
		}
	}
	for k := int64(0); k < nseg; k++ {
		if sg, ok := kept[k]; ok && r.rnd.IntN(2) == 0 {
			if _, end := core.SegmentSpan(m.Size, k); sg.Size <= end-k*core.SegmentSize {
				m.Segments = append(m.Segments, sg) // shared, not sent
				continue
			}
		}
		if k < nseg-1 && r.rnd.IntN(3) == 0 {
			continue // a hole
		}
		n := int64(1 + r.rnd.IntN(40<<10))
		if k == nseg-1 {
			n = max(size, 1)
		}
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.rnd.IntN(256))
		}
		sg := testSegment(k, data)
		for c := 0; c < core.NumChunks; c++ {
			r.stage(upload, sg.ID, c, storedChunk(data, c))
		}
		m.Segments = append(m.Segments, sg)
	}
	if err := wire.CheckSegments(&m); err != nil {
		r.t.Fatal(err)
	}
	_, err := r.u.Commit(p, upload, m, false, nil)
	return m, err
}

// stage uploads one chunk as PUT_CHUNK does, reserving its room first.
func (r *usageRig) stage(upload, seg string, n int, data []byte) {
	r.t.Helper()
	inline := len(data) <= wire.MaxInlineChunk
	release, err := r.u.Reserve(int64(len(data)), inline, 0, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	defer release()
	if inline {
		if err := r.u.StageInline(upload, seg, n, data); err != nil {
			r.t.Fatal(err)
		}
		return
	}
	sc, err := r.u.Stage(upload, seg, n, int64(len(data)), true)
	if err != nil {
		r.t.Fatal(err)
	}
	defer sc.Close()
	_, _ = sc.Write(data)
	if _, err := sc.Finish([32]byte{}); err != nil {
		r.t.Fatal(err)
	}
	if err := sc.Keep(); err != nil {
		r.t.Fatal(err)
	}
}

func (r *usageRig) check(what string) {
	r.t.Helper()
	if got, want := r.u.Usage().Bytes, measured(r.u); got != want {
		r.t.Fatalf("after %s: usage %d, folder holds %d", what, got, want)
	}
}

// TestUsageFollowsChanges: through a random run of puts (inline and chunk
// files, small chunks beyond the budget's memory staged as files, segments
// shared with the version before), overwrites, deletes, renames over files and folders, folder removals,
// stale commits, uploads never committed and then dropped (DROP, the last
// connection closing, idle), quarantines and sweeps, the user's counter
// always equals a walk of the folder, and after a restart recovery counts
// the same.
func TestUsageFollowsChanges(t *testing.T) {
	dir := t.TempDir()
	budget := Budget{Memory: 64 << 10}
	st, err := Open(Config{Dir: dir, Budget: budget})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.User("alice")
	if err != nil {
		t.Fatal(err)
	}
	r := &usageRig{t: t, st: st, u: u, rnd: rand.New(rand.NewPCG(1, 2))}
	paths := []string{"a", "b", "d/c", "d/e", "f/g/h"}
	live := map[string]wire.Meta{}
	var left []string // uploads never committed
	for i := 0; i < 300; i++ {
		p := paths[r.rnd.IntN(len(paths))]
		var what string
		switch k := r.rnd.IntN(12); {
		case k < 4:
			size := int64(r.rnd.IntN(40 << 10)) // inline up to 32 KiB, chunk files above
			if r.rnd.IntN(3) == 0 {
				size += 200 << 10
			}
			var base *wire.Meta
			if m, ok := live[p]; ok {
				base = &m
			}
			m, err := r.put(p, size, "", base)
			var rf *Refusal
			if errors.As(err, &rf) {
				continue // a file in the way (d/c over a file d)
			}
			if err != nil {
				t.Fatal(err)
			}
			live[p] = m
			what = fmt.Sprintf("put %s (%d bytes)", p, size)
		case k == 4:
			err = u.Update(wire.UpdateDelete, p, wire.Meta{Stamp: core.NewVersion()}, false)
			what = "delete " + p
		case k == 5:
			to := paths[r.rnd.IntN(len(paths))]
			err = u.Rename(p, to, core.NewVersion(), "", "")
			what = "rename " + p + " to " + to
		case k == 6:
			top := []string{"d", "f", "f/g"}[r.rnd.IntN(3)]
			err = u.Update(wire.UpdateRmdir, top, wire.Meta{Stamp: core.NewVersion()}, true) // heal: removes what is under it
			what = "heal rmdir " + top
		case k == 7:
			_, err = r.put(p, 300<<10, "000000000000000000000002", nil) // older than anything: stale, its upload removed
			what = "stale put " + p
		case k == 8:
			m, ok := live[p]
			if !ok || len(m.Segments) == 0 {
				continue
			}
			_, err = u.Quarantine(m.Segments[r.rnd.IntN(len(m.Segments))].ID, r.rnd.IntN(core.NumChunks), nil)
			what = "quarantine " + p
		case k == 9:
			upload := randHex(16)
			for n := 0; n <= r.rnd.IntN(core.NumChunks); n++ {
				size := r.rnd.IntN(40 << 10)
				if r.rnd.IntN(2) == 0 {
					size = r.rnd.IntN(wire.MaxInlineChunk)
				}
				r.stage(upload, tseg, n, make([]byte, size))
			}
			left = append(left, upload)
			what = "an upload left staged"
		case k == 10:
			switch {
			case len(left) > 0 && r.rnd.IntN(2) == 0:
				i := r.rnd.IntN(len(left))
				u.DropUpload(left[i])
				left = append(left[:i], left[i+1:]...)
				what = "DROP"
			case r.rnd.IntN(2) == 0:
				u.DropUploads()
				left = nil
				what = "the last connection closed"
			default:
				st.DropIdle(time.Now().Add(budget.withDefaults().Idle + time.Second))
				left = nil
				what = "idle uploads dropped"
			}
		default:
			if err := st.Sync(); err != nil {
				t.Fatal(err)
			}
			st.SweepReleased(time.Now().Add(-time.Duration(r.rnd.IntN(2)) * time.Hour))
			what = "sweep"
		}
		var rf *Refusal
		// Quarantine meets fs.ErrNotExist for a chunk without a file
		// (inline, or quarantined already).
		if err != nil && !errors.As(err, &rf) && !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s: %v", what, err)
		}
		r.check(what)
	}
	// An upload whose commit never comes counts as staged until cleaned up.
	r.stage(randHex(16), tseg, 0, make([]byte, 100<<10))
	r.check("an upload left staged")
	if staged := u.up.files.Load(); staged < 100<<10 {
		t.Fatalf("staged %d bytes", staged)
	}
	before := u.Usage().Bytes
	st.Close()

	// At start, recovery counts what stands; the set-aside chunks and the
	// staged upload are gone, and nothing counts them.
	st, err = Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err = st.User("alice")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Usage().Bytes, measured(u); got != want || got > before-chunkFileSize(100<<10) {
		t.Fatalf("after a restart: usage %d, folder holds %d (before the restart %d, with an upload staged)", got, want, before)
	}
	if staged, files := u.up.files.Load(), stagingBytes(u); staged != 0 || files != 0 {
		t.Errorf("after a restart: %d bytes counted staged, %d in the staging folder; want none", staged, files)
	}
}

func TestReserveRefusesOverQuota(t *testing.T) {
	st, u := openAlice(t)
	r := &usageRig{t: t, st: st, u: u, rnd: rand.New(rand.NewPCG(3, 4))}
	if _, err := r.put("a", 400<<10, "", nil); err != nil {
		t.Fatal(err)
	}
	used := u.Usage().Bytes
	limit := used + chunkFileSize(100<<10) + 10
	// Two uploads at once: the first takes the room, the second is refused.
	release, err := u.Reserve(100<<10, false, limit, 0)
	if err != nil {
		t.Fatalf("upload within the quota: %v", err)
	}
	_, err = u.Reserve(100<<10, false, limit, 0)
	var qe *QuotaError
	if !errors.As(err, &qe) || qe.Limit != limit || qe.Bytes != used+chunkFileSize(100<<10) || qe.Need != chunkFileSize(100<<10) {
		t.Fatalf("second upload: %v (%+v)", err, qe)
	}
	release()
	release() // twice is harmless
	if got := u.Usage().Bytes; got != used {
		t.Errorf("after release: %d, want %d", got, used)
	}
	if _, err := u.Reserve(11, true, limit, 0); err != nil {
		t.Errorf("inline chunk that fits: %v", err)
	}
	if release, err := u.Reserve(1<<20, false, 0, 0); err != nil {
		t.Errorf("no quota: %v", err)
	} else {
		release()
	}
	// A delete keeps the chunks counted, set aside, until the sweep.
	if err := u.Update(wire.UpdateDelete, "a", wire.Meta{Stamp: core.NewVersion()}, false); err != nil {
		t.Fatal(err)
	}
	if us := u.Usage(); us.Bytes != used || us.Aside != used {
		t.Errorf("after the delete: %+v, want all %d set aside", us, used)
	}
	if err := st.Sync(); err != nil {
		t.Fatal(err)
	}
	st.SweepReleased(time.Now())
	if us := u.Usage(); us.Bytes != 0 || us.Aside != 0 {
		t.Errorf("after the sweep: %+v", us)
	}
}

// TestReserveReplacesStaged: a chunk sent again under the same upload (a
// client retrying on a fresh connection after its reply was lost) replaces
// the staged one, so the quota check does not count it twice.
func TestReserveReplacesStaged(t *testing.T) {
	st, u := openAlice(t)
	r := &usageRig{t: t, st: st, u: u, rnd: rand.New(rand.NewPCG(5, 6))}
	const upload, seg = "0123456789abcdef0123456789abcdef", "18a2b3c4d5e6f7a8deadbeef"
	data := make([]byte, 100<<10)
	r.stage(upload, seg, 2, data)
	staged := u.ReplacedSize(upload, seg, 2)
	if staged != chunkFileSize(100<<10) {
		t.Fatalf("staged chunk takes %d, want %d", staged, chunkFileSize(100<<10))
	}
	if u.ReplacedSize(upload, seg, 1) != 0 || u.ReplacedSize("ffffffffffffffffffffffffffffffff", seg, 2) != 0 {
		t.Fatal("another chunk or upload counts as replaced")
	}
	limit := u.Usage().Bytes + 10 // the staged chunk is in the use already
	if _, err := u.Reserve(100<<10, false, limit, 0); err == nil {
		t.Fatal("a second chunk fits a quota with no room")
	}
	release, err := u.Reserve(100<<10, false, limit, staged)
	if err != nil {
		t.Fatalf("the same chunk sent again: %v", err)
	}
	release()
	r.check("the retry")

	// A chunk still arriving (its first try) counts as what a retry
	// replaces too, until its receipt ends.
	sc, err := u.Stage(upload, seg, 1, 100<<10, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.ReplacedSize(upload, seg, 1); got != chunkFileSize(100<<10) {
		t.Errorf("a chunk arriving replaces %d, want %d", got, chunkFileSize(100<<10))
	}
	sc.Close()
	if got := u.ReplacedSize(upload, seg, 1); got != 0 {
		t.Errorf("after the receipt ended: %d", got)
	}
}

// openAlice opens a store in a new folder, closed when the test ends, and
// alice's folder in it.
func openAlice(t *testing.T) (*Store, *UserDir) {
	t.Helper()
	st, err := Open(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	u, err := st.User("alice")
	if err != nil {
		t.Fatal(err)
	}
	return st, u
}
