package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// ScrubReport sums up a scrub: chunk files checked, their data bytes, and
// the bad ones set aside in quarantine ("user:<segment id>.c<N>" for a
// node's scrub, "<segment id>.c<N>" for a user's).
type ScrubReport struct {
	Checked int
	Bytes   int64
	Bad     []string
}

// Scrub verifies every user's chunk files, at most rate bytes/s (0: at
// full speed), quarantining bad ones.
func (st *Store) Scrub(ctx context.Context, rate int64) (ScrubReport, error) {
	sc := &scrubber{log: st.log, rate: rate}
	return sc.scrubDir(ctx, st.dir, func(user string) (*UserDir, func(), error) {
		u, err := st.User(user)
		return u, func() {}, err
	})
}

// Scrub verifies the user's chunk files, at most rate bytes/s (0: at full
// speed), quarantining bad ones; Bad names are "<segment id>.c<N>".
func (u *UserDir) Scrub(ctx context.Context, rate int64) (ScrubReport, error) {
	sc := &scrubber{log: u.log, rate: rate}
	return sc.scrubUser(ctx, u)
}

// ScrubDir verifies every chunk in the data folder dir of a stopped node,
// with the same code as Scrub. It refuses a folder of another format.
func ScrubDir(ctx context.Context, dir string, log *slog.Logger) (ScrubReport, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if _, err := os.Stat(filepath.Join(dir, usersDir)); err != nil {
		return ScrubReport{}, fmt.Errorf("not a node data folder: %w", err)
	}
	if err := checkFormat(dir, false); err != nil {
		return ScrubReport{}, err
	}
	sc := &scrubber{log: log}
	return sc.scrubDir(ctx, dir, func(user string) (*UserDir, func(), error) {
		u, err := openUserDir(dir, user, nil, log) // no flusher: every change is durable at once
		if err != nil {
			return nil, nil, err
		}
		return u, func() { u.close() }, nil
	})
}

// scrubber verifies chunk files, at most rate bytes/s when rate > 0.
type scrubber struct {
	log   *slog.Logger
	rate  int64
	start time.Time
	bytes int64 // read so far, for the rate limit
}

// scrubDir scrubs every user of the data folder dir, getting each user's
// folder (and a function to release it) from open.
func (sc *scrubber) scrubDir(ctx context.Context, dir string, open func(user string) (*UserDir, func(), error)) (ScrubReport, error) {
	var rep ScrubReport
	users, err := os.ReadDir(filepath.Join(dir, usersDir))
	if err != nil {
		return rep, err
	}
	for _, e := range users {
		if !e.IsDir() || !ValidUser(e.Name()) {
			continue
		}
		u, release, err := open(e.Name())
		if err != nil {
			sc.log.Error("scrub: open user folder", "user", e.Name(), "err", err)
			continue
		}
		r, err := sc.scrubUser(ctx, u)
		release()
		rep.Checked += r.Checked
		rep.Bytes += r.Bytes
		for _, b := range r.Bad {
			rep.Bad = append(rep.Bad, e.Name()+":"+b)
		}
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// scrubUser verifies one user's chunk files, segment folder by segment
// folder. (Inline chunks need no scrub: a record keeps only chunks that
// matched their SHA-256, and what it holds is checked when it is read.)
func (sc *scrubber) scrubUser(ctx context.Context, u *UserDir) (ScrubReport, error) {
	var rep ScrubReport
	if sc.start.IsZero() {
		sc.start = time.Now()
	}
	dirs, err := u.readNames(segmentsDir)
	if err != nil {
		return rep, err
	}
	slices.Sort(dirs)
	for _, d := range dirs {
		if !validSegFolder(d) {
			continue
		}
		names, err := u.readNames(segmentsDir + "/" + d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return rep, err
		}
		slices.Sort(names)
		for _, n := range names {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			if id, c, ok := parseChunkBase(n); ok {
				sc.check(ctx, u, id, c, &rep)
			}
		}
	}
	return rep, nil
}

// check verifies one chunk file and quarantines it if bad.
func (sc *scrubber) check(ctx context.Context, u *UserDir, id string, c int, rep *ScrubReport) {
	cf, err := u.openChunk(segFile(id, c))
	if errors.Is(err, fs.ErrNotExist) {
		return // swept meanwhile
	}
	var fi os.FileInfo
	if err == nil {
		fi, _ = cf.f.Stat()
		if cf.hdr.Index != c {
			err = fmt.Errorf("%w: header says chunk %d", ErrCorrupt, cf.hdr.Index)
		} else {
			err = cf.verify(func(n int) error {
				rep.Bytes += int64(n)
				return sc.pace(ctx, n)
			})
		}
		cf.f.Close()
	}
	if ctx.Err() != nil {
		return
	}
	rep.Checked++
	if err == nil {
		return
	}
	if !errors.Is(err, ErrCorrupt) {
		sc.log.Error("scrub: read chunk", "user", u.user, "segment", id, "chunk", c, "err", err)
		return
	}
	sc.log.Warn("scrub found a bad chunk", "user", u.user, "segment", id, "chunk", c, "err", err)
	if _, qerr := u.Quarantine(id, c, fi); qerr != nil {
		sc.log.Error("quarantine failed", "user", u.user, "segment", id, "chunk", c, "err", qerr)
		return
	}
	rep.Bad = append(rep.Bad, chunkBase(id, c))
}

// pace sleeps as needed to keep the scrub at rate bytes/s.
func (sc *scrubber) pace(ctx context.Context, n int) error {
	if sc.rate <= 0 {
		return ctx.Err()
	}
	sc.bytes += int64(n)
	want := time.Duration(float64(sc.bytes) / float64(sc.rate) * float64(time.Second))
	if d := want - time.Since(sc.start); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Quarantine moves the bad chunk file of chunk c of segment id into the
// quarantine folder, so that no version holds it any more (Held follows).
// When fi is not nil, the file is moved only if it is still that file (a
// heal may have replaced it). It returns the name given in quarantine.
func (u *UserDir) Quarantine(id string, c int, fi os.FileInfo) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	src := segFile(id, c)
	cur, err := u.root.Lstat(src)
	if err != nil {
		return "", err
	}
	if fi != nil && !sameFile(fi, cur) {
		return "", errors.New("chunk file replaced meanwhile")
	}
	return u.quarantineFile(src, id, c)
}

// quarantineFile moves src, chunk c of segment id, into the quarantine
// folder as <id>.c<N> (with a .<unix ns> suffix if that name is taken).
func (u *UserDir) quarantineFile(src, id string, c int) (string, error) {
	name := chunkBase(id, c)
	if _, err := u.root.Lstat(quarantineDir + "/" + name); err == nil {
		name += fmt.Sprintf(".%d", time.Now().UnixNano())
	}
	if err := u.root.Rename(src, quarantineDir+"/"+name); err != nil {
		return "", err
	}
	u.segs.dropChunk(id, c) // quarantine is the node's trouble, not the user's use
	_ = u.syncDir(quarantineDir)
	_ = u.syncDir(segFolder(id))
	return name, nil
}
