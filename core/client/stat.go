package client

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// rootEntry is the user's top folder, which always exists.
var rootEntry = Entry{Name: "", Dir: true, Mode: 0o755}

// stat returns the merged entry for name, from the nodes. It fails with
// ErrNotFound when the entry (or a folder above it) does not exist on the
// nodes that answered (with name's Raw when only name is missing: see
// walkChain), and with ErrNoNode when none answered. A file caught
// between the two waves of a commit is asked for again (see settle).
func (c *Client) stat(ctx context.Context, name string) (Entry, error) {
	name, err := cleanName(name)
	if err != nil {
		return Entry{}, err
	}
	if name == "" {
		return rootEntry, nil
	}
	return c.settle(ctx, func() (Entry, error) { return c.lookup(ctx, name) })
}

// settleWaits are the pauses before asking again about a file caught
// between two commit waves: about a third of a second in all, many times
// the round trip that separates the waves.
var settleWaits = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond, 150 * time.Millisecond}

// settle runs lookup until its entry is not a commit seen half-way. A writer
// commits a new version on DFS1+DFS3 and then on DFS2+DFS4, and a lookup
// reaches the four nodes at slightly different moments: it can find the new
// version on some nodes and the old one on the others, neither whole among
// the answers, though each is whole on the nodes at every moment. Asked
// again a moment later, the nodes answer with one whole version, old or
// new. A file incomplete for longer (nodes down, a writer that died) is
// reported as it is once the waits are spent, and at once when its newest
// version is older than any commit takes.
func (c *Client) settle(ctx context.Context, lookup func() (Entry, error)) (Entry, error) {
	for _, wait := range settleWaits {
		e, err := lookup()
		if err != nil || !c.mayBeCommitting(e) {
			return e, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return e, err
		case <-t.C:
		}
	}
	return lookup()
}

// mayBeCommitting reports a file whose newest version is not whole among the
// nodes' answers and young enough to be a commit in progress (heal leaves
// such a version alone for the same time).
func (c *Client) mayBeCommitting(e Entry) bool {
	return !e.Dir && e.State == StateIncomplete && time.Since(core.VersionTime(e.Stamp)) < c.abandonAfter()
}

// lookup asks every node for name and its folders and merges the answers.
func (c *Client) lookup(ctx context.Context, name string) (Entry, error) {
	chains, errs := c.lookupOn(ctx, allNodes, name)
	if err := c.quorum(errs); err != nil {
		return Entry{}, err
	}
	return walkChain(name, chains)
}

// lookupOn runs LOOKUP of name on the given nodes and returns each one's
// chain: the metas of name's folders and of name, as far as the node has
// them.
func (c *Client) lookupOn(ctx context.Context, nodes []int, name string) (chains [core.NumNodes][]wire.Meta, errs []error) {
	errs = c.fanout(ctx, nodes, func(ctx context.Context, n int) error {
		return c.call(ctx, n, func(s *stub) error {
			var err error
			chains[n], err = s.lookup(name)
			return err
		})
	})
	return chains, errs
}

// walkChain merges the nodes' LOOKUP chains level by level from the root
// and returns name's entry, ErrNotFound when it or a folder above it is not
// live. When only name itself is missing, the entry returned with
// ErrNotFound has Raw: the folders nodes made themselves there (mkdir
// replaces them).
func walkChain(name string, chains [core.NumNodes][]wire.Meta) (Entry, error) {
	e, gone, err := chainEntry(name, chains, nil)
	if gone != "" {
		return Entry{}, fmt.Errorf("%s: %w", gone, core.ErrNotFound)
	}
	return e, err
}

// chainEntry merges the nodes' LOOKUP chains level by level from the root,
// each level's metas filtered by its folder's Born (dropStale). gone is the
// first level that is not live, "" when all are; below it nothing is taken
// for a leftover, since heal replays every delete under a removed folder.
// It fails with ErrNotFound for a level no node has (name's own merged
// level returned with it), and ErrNotDir for a live file above name. visit,
// unless nil, is called with each live level above gone, root first.
func chainEntry(name string, chains [core.NumNodes][]wire.Meta, visit func(level *Entry)) (e Entry, gone string, err error) {
	parts := strings.Split(name, "/")
	parent := rootEntry
	for k := range parts {
		var metas [core.NumNodes]*wire.Meta
		for n := range chains {
			if k < len(chains[n]) {
				metas[n] = &chains[n][k]
			}
		}
		born := parent.Born
		if gone != "" {
			born = ""
		}
		level := strings.Join(parts[:k+1], "/")
		e, live := mergeAt(level, metas, born)
		switch {
		case !live && !e.Deleted && k == len(parts)-1:
			e.Name = level
			return e, gone, fmt.Errorf("%s: %w", level, core.ErrNotFound)
		case !live && !e.Deleted:
			return Entry{}, gone, fmt.Errorf("%s: %w", level, core.ErrNotFound)
		case !live && gone == "":
			gone = level
		case live && gone == "" && k < len(parts)-1 && !e.Dir:
			return Entry{}, gone, fmt.Errorf("%s: %w", level, core.ErrNotDir)
		}
		if visit != nil && live && gone == "" {
			visit(&e)
		}
		parent = e
	}
	return parent, gone, nil
}

// quorum returns nil when at least one node answered, else ErrNoNode (or the
// error every node agreed on, such as ErrAuth).
func (c *Client) quorum(errs []error) error {
	for _, err := range errs {
		if err == nil {
			return nil
		}
	}
	for _, err := range errs {
		if errors.Is(err, core.ErrAuth) {
			return core.ErrAuth
		}
		if errors.Is(err, core.ErrPinMismatch) || errors.Is(err, core.ErrKey) {
			return err
		}
	}
	return c.noNode(errs)
}

// list runs LIST on every node and returns each node's entries and chain.
func (c *Client) list(ctx context.Context, dir string, recursive bool) (chains [core.NumNodes][]wire.Meta, entries [core.NumNodes][]wire.Meta, errs []error) {
	return c.listOn(ctx, allNodes, dir, recursive)
}

// listOn is list on the given nodes only.
func (c *Client) listOn(ctx context.Context, nodes []int, dir string, recursive bool) (chains [core.NumNodes][]wire.Meta, entries [core.NumNodes][]wire.Meta, errs []error) {
	errs = c.fanout(ctx, nodes, func(ctx context.Context, n int) error {
		err := c.call(ctx, n, func(s *stub) error {
			var err error
			chains[n], entries[n], err = s.list(dir, recursive)
			return err
		})
		if errors.Is(err, core.ErrNotFound) && entries[n] == nil && chains[n] == nil {
			return nil // the node lacks the folder: it has nothing under it
		}
		return err
	})
	return chains, entries, errs
}

// readDir returns the live entries directly inside dir, sorted by name,
// from the nodes.
func (c *Client) readDir(ctx context.Context, dir string) ([]Entry, error) {
	dir, err := cleanName(dir)
	if err != nil {
		return nil, err
	}
	chains, entries, errs := c.list(ctx, dir, false)
	if err := c.quorum(errs); err != nil {
		return nil, err
	}
	parent := rootEntry
	if dir != "" {
		parent, err = walkChain(dir, chains)
		if err != nil {
			return nil, err
		}
		if !parent.Dir {
			return nil, fmt.Errorf("%s: %w", dir, core.ErrNotDir)
		}
	}
	return mergeEntries(entries, map[string]Entry{dir: parent}, false), nil
}

// Listing is the result of List.
type Listing struct {
	Entries []Entry       // live files and folders, sorted by name
	Failed  map[int]error // nodes that did not answer
}

// List returns every live file and folder of the user, merged across the
// nodes, and which nodes did not answer.
func (c *Client) List(ctx context.Context) (Listing, error) {
	_, entries, errs := c.list(ctx, "", true)
	if err := c.quorum(errs); err != nil {
		return Listing{}, err
	}
	l := Listing{Failed: map[int]error{}}
	for n, err := range errs {
		if err != nil {
			l.Failed[n] = err
		}
	}
	l.Entries = mergeEntries(entries, map[string]Entry{"": rootEntry}, false)
	return l, nil
}

// mergeEntries merges the nodes' entries per path, parents before children,
// keeping only entries whose folders are live (known holds the merged
// folders the entries hang from). With tombstones, deleted entries are
// returned too (Deleted set).
func mergeEntries(entries [core.NumNodes][]wire.Meta, known map[string]Entry, tombstones bool) []Entry {
	most := 0
	for n := range entries {
		most = max(most, len(entries[n]))
	}
	byPath := make(map[string]*[core.NumNodes]*wire.Meta, most)
	slots := make([][core.NumNodes]*wire.Meta, 0, most) // one allocation for the usual case
	for n := range entries {
		for i := range entries[n] {
			m := &entries[n][i]
			ms := byPath[m.Path]
			if ms == nil {
				if len(slots) == cap(slots) {
					slots = make([][core.NumNodes]*wire.Meta, 0, most)
				}
				slots = append(slots, [core.NumNodes]*wire.Meta{})
				ms = &slots[len(slots)-1]
				byPath[m.Path] = ms
			}
			ms[n] = m
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool {
		di, dj := strings.Count(paths[i], "/"), strings.Count(paths[j], "/")
		if di != dj {
			return di < dj
		}
		return paths[i] < paths[j]
	})
	var out []Entry
	for _, p := range paths {
		parent, ok := known[core.Parent(p)]
		if !ok || !parent.Dir {
			continue
		}
		e, live := mergeAt(p, *byPath[p], parent.Born)
		if !live {
			if tombstones && e.Deleted {
				out = append(out, e)
			}
			continue
		}
		if e.Dir {
			known[p] = e
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
