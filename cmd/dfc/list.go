package main

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"dfs/core"
	"dfs/core/client"
)

// runList prints one line per file or folder, sorted by name: size, mtime,
// name (folders end in "/", symlinks show "-> target", FIFOs and sockets
// their kind) and a mark for files not stored whole; with -h
// sizes as ls -h writes them, with -json a JSON array. Nodes that did not
// answer are named on stderr; the listing is still printed.
func runList(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("list")
	asJSON := fs.Bool("json", false, "print a JSON array of entries")
	humanSizes := fs.Bool("h", false, "sizes as 1.5K, 20M, 3.0G (powers of 1024), as ls -h")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("at most one PREFIX")
	}
	prefix := ""
	if len(pos) == 1 {
		prefix = pos[0]
	}
	c, err := e.connect(ctx)
	if err != nil {
		return err
	}
	l, err := c.List(ctx)
	if err != nil {
		return err
	}
	ents := l.Entries
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name < ents[j].Name })
	js := []jsonEntry{}
	for _, ent := range ents {
		if !strings.HasPrefix(ent.Name, prefix) {
			continue
		}
		if *asJSON {
			js = append(js, toJSONEntry(ent))
			continue
		}
		fmt.Fprintln(e.stdout, listLine(ent, *humanSizes))
	}
	if *asJSON {
		if err := writeJSON(e.stdout, js); err != nil {
			return err
		}
	}
	for n := 0; n < core.NumNodes; n++ {
		if err, ok := l.Failed[n]; ok {
			fmt.Fprintf(e.stderr, "dfc: not answering: %v\n", err)
		}
	}
	return nil
}

// listLine formats one entry: "   5242880  2006-01-02 15:04  a/b.bin  [degraded]",
// the size as lsSize writes it with humanSizes.
func listLine(ent client.Entry, humanSizes bool) string {
	size := fmt.Sprint(ent.Size)
	if humanSizes {
		size = lsSize(ent.Size)
	}
	name := ent.Name
	switch t := entryType(ent); {
	case ent.Dir:
		size, name = "-", name+"/"
	case t == "symlink":
		name += " -> " + ent.Target
	case t != "file":
		size, name = "-", name+"  ["+t+"]"
	}
	line := fmt.Sprintf("%12s  %s  %s", size, ent.MTime.Local().Format("2006-01-02 15:04"), name)
	switch {
	case ent.Dir:
	case ent.State == client.StateIncomplete:
		line += "  [incomplete]"
	case ent.State == client.StateDegraded:
		line += "  [degraded]"
	}
	return line
}

// lsSize writes n as ls -h does: bytes below 1024, else the largest unit
// (K, M, G, T, P, E: powers of 1024) with one decimal below 10 and none
// from 10, rounded up, so that a size is never shown smaller than it is.
func lsSize(n int64) string {
	if n < 1024 {
		return fmt.Sprint(n)
	}
	v, unit := float64(n), 0
	for v >= 1024 && unit < 6 {
		v /= 1024
		unit++
	}
	if v < 10 {
		if v = math.Ceil(v*10) / 10; v < 10 {
			return fmt.Sprintf("%.1f%c", v, "BKMGTPE"[unit])
		}
	}
	v = math.Ceil(v)
	if v >= 1024 && unit < 6 {
		return fmt.Sprintf("1.0%c", "BKMGTPE"[unit+1])
	}
	return fmt.Sprintf("%.0f%c", v, "BKMGTPE"[unit])
}
