package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"dfs/core"
	"dfs/core/client"
)

// errAtRisk makes dfc exit 3: the command worked, and found files at risk.
var errAtRisk = errors.New("files at risk")

// runStatus prints the nodes, each file that is not fully safe, and the
// sentence that matters.
func runStatus(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("status")
	asJSON := fs.Bool("json", false, "print the status as a JSON object")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	c, err := e.connect(ctx)
	if err != nil {
		return err
	}
	r, err := c.Status(ctx)
	if *asJSON {
		if werr := writeJSON(e.stdout, toJSONStatus(c, r, err)); werr != nil {
			return werr
		}
		switch {
		case err != nil:
			return err
		case !r.OK():
			return errAtRisk
		}
		return nil
	}
	for _, n := range r.Nodes {
		if n.Up {
			fmt.Fprintf(e.stdout, "%-5s %-21s up    %s free of %s, dfsnode %s, %s", n.Name, n.Addr,
				human(n.Info.FreeBytes), human(n.Info.TotalBytes), n.Info.Version, quotaUse(n.Info))
			if n.Info.Quarantine > 0 {
				fmt.Fprintf(e.stdout, ", %d bad copies in quarantine", n.Info.Quarantine)
			}
			fmt.Fprintln(e.stdout)
		} else {
			fmt.Fprintf(e.stdout, "%-5s %-21s DOWN  %v\n", n.Name, n.Addr, n.Err)
		}
	}
	if err != nil {
		return err
	}
	for _, f := range r.Files {
		if f.State == client.StateOK {
			continue
		}
		line := fmt.Sprintf("%-10s %s", f.State, f.Name)
		if len(f.Segments) > 1 {
			degraded, incomplete := f.SegmentStates()
			line += fmt.Sprintf("  (%d of %d segments degraded, %d incomplete)", degraded, len(f.Segments), incomplete)
		}
		fmt.Fprintln(e.stdout, line)
	}
	fmt.Fprintln(e.stdout, r.Summary(c))
	if !r.OK() {
		return errAtRisk
	}
	return nil
}

// whereAll is how many segments `dfc where` lists one by one; a bigger
// file gets the segments that are not ok, and a count of the others.
const whereAll = 8

// runWhere shows each chunk of each stored segment of a file and the nodes
// holding good copies.
func runWhere(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("where")
	asJSON := fs.Bool("json", false, "print the chunks and their copies as a JSON object")
	name, c, err := e.oneNameFlags(ctx, fs, args)
	if err != nil {
		return err
	}
	f, err := c.Stat(ctx, name)
	if err != nil {
		return err
	}
	if f.Dir {
		return fmt.Errorf("%s: %w", name, core.ErrIsDir)
	}
	if *asJSON {
		return writeJSON(e.stdout, toJSONWhere(c, f))
	}
	n := core.NumSegments(f.Size)
	fmt.Fprintf(e.stdout, "%s: %d bytes, version %s, %d of %d segments stored (%s), %s\n",
		f.Name, f.Size, f.Version, len(f.Segments), n, human(uint64(f.Stored())), f.State)
	quiet := 0
	for i := range f.Segments {
		if len(f.Segments) > whereAll && f.SegmentState(i) == client.StateOK {
			quiet++
			continue
		}
		s := &f.Segments[i]
		x := s.X()
		start := s.Index * core.SegmentSize
		fmt.Fprintf(e.stdout, "segment %d  bytes %d-%d  id %s  md5 %s  x=%d  %s\n", s.Index, start, start+s.Size, s.ID, s.MD5, x, f.SegmentState(i))
		for ch := 0; ch < core.NumChunks; ch++ {
			cs, ce := core.ChunkBounds(s.Size, ch)
			var want, have []string
			for _, n := range core.ChunkNodes(x, ch) {
				want = append(want, c.NodeName(n))
			}
			for _, n := range f.Copies[i][ch] {
				have = append(have, c.NodeName(n))
			}
			fmt.Fprintf(e.stdout, "  chunk %d  bytes %d-%d  placed on %s  good copies: %s\n", ch+1, start+cs, start+ce,
				strings.Join(want, "+"), orNone(have))
		}
	}
	if quiet > 0 {
		fmt.Fprintf(e.stdout, "%d more segments ok: every chunk has its two copies\n", quiet)
	}
	if holes := n - int64(len(f.Segments)); holes > 0 {
		fmt.Fprintf(e.stdout, "%d segments are holes (zeros, not stored)\n", holes)
	}
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// runHeal restores copies and reports what it did.
func runHeal(ctx context.Context, e *env, args []string) error {
	if _, err := parseArgs(e.flagSet("heal"), args); err != nil {
		return err
	}
	c, err := e.connect(ctx)
	if err != nil {
		return err
	}
	rep, err := c.Heal(ctx, client.HealOptions{})
	fmt.Fprintf(e.stdout, "heal: %d files checked, %d chunk copies restored (%s), %d entries updated, %d deletes replayed, %d tombstones purged\n",
		rep.Files, rep.ChunksCopied, human(uint64(rep.BytesCopied)), rep.Updated, rep.Tombstones, rep.Purged)
	if rep.Forged > 0 {
		fmt.Fprintf(e.stderr, "dfc: heal: removed %d entries that failed authentication (a data folder changed outside dfs; see dfc status) and gave those nodes the true ones\n", rep.Forged)
	}
	for n, ferr := range rep.Failed {
		fmt.Fprintf(e.stderr, "dfc: heal: %s did not answer and was not healed: %v\n", c.NodeName(n), ferr)
	}
	if len(rep.Lost) > 0 {
		fmt.Fprintf(e.stderr, "dfc: heal: %d files have a chunk with no copy on any node that answered: %s\n", len(rep.Lost), strings.Join(rep.Lost, ", "))
	}
	if err != nil {
		return err
	}
	if len(rep.Failed) > 0 || len(rep.Lost) > 0 {
		return errReported
	}
	return nil
}

// quotaUse says what the user holds on a node against their quota there.
func quotaUse(info client.NodeInfo) string {
	if info.Quota == 0 {
		return "you use " + human(info.Used) + " (no quota)"
	}
	return fmt.Sprintf("you use %s of your %s quota (%d%%)", human(info.Used), human(info.Quota), info.Used*100/info.Quota)
}

// human formats a byte count.
func human(n uint64) string { return core.FormatBytes(int64(min(n, math.MaxInt64))) }
