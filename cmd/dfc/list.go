package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"dfs/core"
	"dfs/core/client"
)

// runList prints one line per file or folder, sorted by name: size, mtime,
// name (folders end in "/") and a mark for files not stored whole. Nodes
// that did not answer are named on stderr; the listing is still printed.
func runList(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("list")
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
	for _, ent := range ents {
		if !strings.HasPrefix(ent.Name, prefix) {
			continue
		}
		fmt.Fprintln(e.stdout, listLine(ent))
	}
	for n := 0; n < core.NumNodes; n++ {
		if err, ok := l.Failed[n]; ok {
			fmt.Fprintf(e.stderr, "dfc: not answering: %v\n", err)
		}
	}
	return nil
}

// listLine formats one entry: "   5242880  2006-01-02 15:04  a/b.bin  [degraded]".
func listLine(ent client.Entry) string {
	size := fmt.Sprint(ent.Size)
	name := ent.Name
	if ent.Dir {
		size, name = "-", name+"/"
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
