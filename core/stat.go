package core

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"dfs/core/wire"
)

// rootEntry is the user's top folder, which always exists.
var rootEntry = Entry{Name: "", Dir: true, Mode: 0o755}

// Stat returns the merged entry for name. It fails with ErrNotFound when the
// entry (or a folder above it) does not exist on the nodes that answered, and
// with ErrNoNode when none answered.
func (c *Client) Stat(ctx context.Context, name string) (Entry, error) {
	name, err := CleanName(name)
	if err != nil {
		return Entry{}, err
	}
	if name == "" {
		return rootEntry, nil
	}
	var chains [NumNodes][]wire.Meta
	errs := c.fanout(ctx, allNodes, func(ctx context.Context, n int) error {
		return c.call(ctx, n, func(conn *wire.Conn) error {
			conn.SetDeadline(c.replyDeadline())
			if err := conn.Send(wire.TypeLookup, wire.StatusOK, wire.LookupReq{Path: name}); err != nil {
				return err
			}
			body, err := conn.RecvBody(wire.TypeLookup)
			if err != nil {
				return err
			}
			resp, err := wire.DecodeLookupResp(body)
			chains[n] = resp.Chain
			return err
		})
	})
	if err := c.quorum(errs); err != nil {
		return Entry{}, err
	}
	return walkChain(name, chains)
}

// walkChain merges the nodes' LOOKUP chains level by level from the root.
func walkChain(name string, chains [NumNodes][]wire.Meta) (Entry, error) {
	parts := strings.Split(name, "/")
	parent := rootEntry
	for k := range parts {
		var metas [NumNodes]*wire.Meta
		for n := range chains {
			if k < len(chains[n]) {
				metas[n] = &chains[n][k]
			}
		}
		dropStale(&metas, parent.Born)
		level := strings.Join(parts[:k+1], "/")
		e, live := choose(level, metas)
		if !live {
			return Entry{}, fmt.Errorf("%s: %w", level, ErrNotFound)
		}
		if k < len(parts)-1 && !e.Dir {
			return Entry{}, fmt.Errorf("%s: %w", level, ErrNotDir)
		}
		parent = e
	}
	return parent, nil
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
		if errors.Is(err, ErrAuth) {
			return ErrAuth
		}
		if errors.Is(err, ErrPinMismatch) {
			return err
		}
	}
	return c.noNode(errs)
}

// list runs LIST on every node and returns each node's entries and chain.
func (c *Client) list(ctx context.Context, dir string, recursive bool) (chains [NumNodes][]wire.Meta, entries [NumNodes][]wire.Meta, errs []error) {
	errs = c.fanout(ctx, allNodes, func(ctx context.Context, n int) error {
		err := c.call(ctx, n, func(conn *wire.Conn) error {
			conn.SetDeadline(c.replyDeadline())
			if err := conn.Send(wire.TypeList, wire.StatusOK, wire.ListReq{Dir: dir, Recursive: recursive}); err != nil {
				return err
			}
			for first := true; ; first = false {
				conn.SetDeadline(c.replyDeadline())
				body, err := conn.RecvBody(wire.TypeList)
				if err != nil {
					return err
				}
				resp, err := wire.DecodeListResp(body)
				if err != nil {
					return err
				}
				if first {
					chains[n] = resp.Chain
				}
				if entries[n] == nil {
					entries[n] = resp.Entries // most listings are one batch: no copy
				} else {
					entries[n] = append(entries[n], resp.Entries...)
				}
				if resp.Done {
					return nil
				}
			}
		})
		if errors.Is(err, ErrNotFound) && entries[n] == nil && chains[n] == nil {
			return nil // the node lacks the folder: it has nothing under it
		}
		return err
	})
	return chains, entries, errs
}

// ReadDir returns the live entries directly inside dir, sorted by name.
func (c *Client) ReadDir(ctx context.Context, dir string) ([]Entry, error) {
	dir, err := CleanName(dir)
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
			return nil, fmt.Errorf("%s: %w", dir, ErrNotDir)
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
func mergeEntries(entries [NumNodes][]wire.Meta, known map[string]Entry, tombstones bool) []Entry {
	most := 0
	for n := range entries {
		most = max(most, len(entries[n]))
	}
	byPath := make(map[string]*[NumNodes]*wire.Meta, most)
	slots := make([][NumNodes]*wire.Meta, 0, most) // one allocation for the usual case
	for n := range entries {
		for i := range entries[n] {
			m := &entries[n][i]
			ms := byPath[m.Path]
			if ms == nil {
				if len(slots) == cap(slots) {
					slots = make([][NumNodes]*wire.Meta, 0, most)
				}
				slots = append(slots, [NumNodes]*wire.Meta{})
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
		parent, ok := known[Parent(p)]
		if !ok || !parent.Dir {
			continue
		}
		ms := byPath[p]
		dropStale(ms, parent.Born)
		e, live := choose(p, *ms)
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
