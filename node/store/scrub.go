package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// ScrubReport sums up a scrub: chunk files checked, their data bytes, and
// the bad ones set aside in quarantine ("user:path@version.cN").
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
// speed), quarantining bad ones; Bad names are "path@version.cN".
func (u *UserDir) Scrub(ctx context.Context, rate int64) (ScrubReport, error) {
	sc := &scrubber{log: u.log, rate: rate}
	return sc.scrubUser(ctx, u)
}

// ScrubDir verifies every chunk in the data folder dir of a stopped node,
// with the same code as Scrub.
func ScrubDir(ctx context.Context, dir string, log *slog.Logger) (ScrubReport, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if _, err := os.Stat(filepath.Join(dir, usersDir)); err != nil {
		return ScrubReport{}, fmt.Errorf("not a node data folder: %w", err)
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

// scrubUser verifies one user's chunks; Bad names are "path@version.cN".
func (sc *scrubber) scrubUser(ctx context.Context, u *UserDir) (ScrubReport, error) {
	var rep ScrubReport
	if sc.start.IsZero() {
		sc.start = time.Now()
	}
	err := sc.walk(ctx, u, filesDir, "", &rep)
	return rep, err
}

func (sc *scrubber) walk(ctx context.Context, u *UserDir, rel, p string, rep *ScrubReport) error {
	names, err := u.readNames(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		if ver, c, ok := parseChunkName(n); ok {
			sc.check(ctx, u, rel, p, ver, c, rep)
			continue
		}
		name, ok := unescapeComponent(n)
		if !ok {
			continue
		}
		cr := rel + "/" + n
		if ok, err := u.statDir(cr); err != nil || !ok {
			continue
		}
		child := name
		if p != "" {
			child = p + "/" + name
		}
		if err := sc.walk(ctx, u, cr, child, rep); err != nil {
			return err
		}
	}
	return nil
}

// check verifies one chunk file and quarantines it if bad.
func (sc *scrubber) check(ctx context.Context, u *UserDir, rel, p, ver string, c int, rep *ScrubReport) {
	cf, err := u.openChunk(rel + "/" + chunkName(ver, c))
	if errors.Is(err, fs.ErrNotExist) {
		return // replaced meanwhile
	}
	var fi os.FileInfo
	if err == nil {
		fi, _ = cf.f.Stat()
		err = cf.verify(func(n int) error {
			rep.Bytes += int64(n)
			return sc.pace(ctx, n)
		})
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
		sc.log.Error("scrub: read chunk", "user", u.user, "path", p, "version", ver, "chunk", c, "err", err)
		return
	}
	sc.log.Warn("scrub found a bad chunk", "user", u.user, "path", p, "version", ver, "chunk", c, "err", err)
	if _, qerr := u.Quarantine(p, ver, c, fi); qerr != nil {
		sc.log.Error("quarantine failed", "user", u.user, "path", p, "err", qerr)
		return
	}
	rep.Bad = append(rep.Bad, fmt.Sprintf("%s@%s.c%d", p, ver, c))
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

// Quarantine moves a bad chunk file of user path p into the quarantine folder
// and drops it from the entry's Held list. When fi is not nil, the file is
// moved only if it is still that file (a commit may have replaced it). It
// returns the name given in quarantine.
func (u *UserDir) Quarantine(p, ver string, c int, fi os.FileInfo) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	steps, err := u.walk(p)
	if err != nil {
		return "", err
	}
	rel := filesDir
	if len(steps) > 0 {
		rel = steps[len(steps)-1].rel
	}
	src := rel + "/" + chunkName(ver, c)
	cur, err := u.root.Lstat(src)
	if err != nil {
		return "", err
	}
	if fi != nil && !sameFile(fi, cur) {
		return "", errors.New("chunk file replaced meanwhile")
	}
	name := quarantineName(p, ver, c)
	if _, err := u.root.Lstat(quarantineDir + "/" + name); err == nil {
		name += fmt.Sprintf(".%d", time.Now().UnixNano())
	}
	if err := u.root.Rename(src, quarantineDir+"/"+name); err != nil {
		return "", err
	}
	u.count(-cur.Size(), 0) // quarantine is the node's trouble, not the user's use
	_ = u.syncDir(quarantineDir)
	_ = u.syncDir(rel)
	m, err := u.readFull(rel)
	if err != nil || m == nil || m.Version != ver {
		return name, err
	}
	if i := slices.Index(m.Held, c); i >= 0 {
		m.Held = slices.Delete(m.Held, i, i+1)
		return name, u.writeMeta(rel, m)
	}
	return name, nil
}

// quarantineName is a readable file name for a bad chunk: the escaped user
// path, "@version.cN"; long paths are shortened with a hash.
func quarantineName(p, ver string, c int) string {
	esc := url.PathEscape(p)
	if len(esc) > 180 {
		sum := sha256.Sum256([]byte(p))
		esc = esc[:150] + "~" + hex.EncodeToString(sum[:8])
	}
	return fmt.Sprintf("%s@%s.c%d", esc, ver, c)
}
