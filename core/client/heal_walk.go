package client

import (
	"context"
	"slices"
	"strings"
)

// folder heals the entries directly in dir, then each folder among them,
// depth first; a removed folder's own removal is replayed after what is
// under it, so that it finds the folder empty on every node. While heal
// descends only the folders of each level wait, not the listings they came
// from: memory follows the largest folder and the depth, not the tree.
func (h *healRun) folder(ctx context.Context, dir Entry, removed bool) {
	for _, sub := range h.entries(ctx, dir, removed) {
		if ctx.Err() != nil || len(h.up) == 0 {
			return
		}
		h.folder(ctx, sub, removed || sub.Deleted)
		if sub.Deleted {
			h.entry(ctx, &sub, removed)
		}
	}
}

// entries lists dir (LIST, not recursive) on the nodes still up, heals its
// entries but the removals of folders, and returns its folders, live and
// removed, detached from the listing.
func (h *healRun) entries(ctx context.Context, dir Entry, removed bool) []Entry {
	_, lists, errs := h.c.listOn(ctx, h.up, dir.Name, false)
	if !h.answers(dir.Name, errs) {
		return nil
	}
	parent := Entry{Name: dir.Name, Dir: true, Born: dir.Born}
	if removed {
		parent.Born = "" // under a removed folder every delete is replayed, leftovers' too
	}
	var subs []Entry
	for _, e := range mergeEntries(lists, map[string]Entry{dir.Name: parent}, true) {
		if ctx.Err() != nil {
			return nil
		}
		if e.Dir {
			subs = append(subs, unshared(e))
			if e.Deleted {
				continue
			}
		}
		h.entry(ctx, &e, removed)
	}
	return subs
}

// unshared returns e with its own copies of the nodes' metas, so that
// keeping it does not keep the whole listing they point into.
func unshared(e Entry) Entry {
	for n, m := range e.Raw {
		if m != nil {
			cp := *m
			e.Raw[n] = &cp
		}
	}
	return e
}

// names heals the named entries one by one (LOOKUP on each node), deepest
// first, so that the entries of a removed folder come before its removal.
// A name no node holds any more has nothing left to heal.
func (h *healRun) names(ctx context.Context, names []string) {
	names = slices.Clone(names)
	slices.SortFunc(names, func(a, b string) int {
		if da, db := strings.Count(a, "/"), strings.Count(b, "/"); da != db {
			return db - da
		}
		return strings.Compare(a, b)
	})
	for _, name := range slices.Compact(names) {
		if ctx.Err() != nil || len(h.up) == 0 {
			return
		}
		if name == "" {
			continue // the top folder itself is never healed
		}
		chains, errs := h.c.lookupOn(ctx, h.up, name)
		if !h.answers(name, errs) {
			continue
		}
		e, gone, err := chainEntry(name, chains, nil)
		if err != nil {
			continue
		}
		h.entry(ctx, &e, gone != "" && gone != name)
	}
}
