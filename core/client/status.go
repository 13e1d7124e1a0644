package client

import (
	"context"
	"dfs/core"
	"fmt"
	"sort"
	"strings"
)

// StatusReport is the cluster's health as one user sees it.
type StatusReport struct {
	Nodes  []NodeState
	Files  []Entry          // live files (not folders)
	AtRisk map[int][]string // node -> files that would be lost if it died
	Lost   []string         // files that cannot be reassembled now
	// Forged holds the nodes that served, in this run, entries or
	// chunks that failed authentication (Client.Forged).
	Forged map[int]Forged
}

// Status asks every node for its state and checks, per file, that every
// chunk of every segment has two good copies.
func (c *Client) Status(ctx context.Context) (StatusReport, error) {
	nodes, err := c.Ping(ctx)
	if err != nil {
		return StatusReport{Nodes: nodes}, err
	}
	l, err := c.List(ctx)
	if err != nil {
		return StatusReport{Nodes: nodes}, err
	}
	r := StatusReport{Nodes: nodes, AtRisk: map[int][]string{}}
	for _, e := range l.Entries {
		if e.Dir {
			continue
		}
		r.Files = append(r.Files, e)
		if e.State == StateIncomplete {
			r.Lost = append(r.Lost, e.Name)
			continue
		}
		for n := 0; n < core.NumNodes; n++ {
			if lostWithout(&e, n) {
				r.AtRisk[n] = append(r.AtRisk[n], e.Name)
			}
		}
	}
	r.Forged = c.Forged()
	return r, nil
}

// lostWithout reports whether some chunk of some segment of e has no good
// copy but on node n.
func lostWithout(e *Entry, n int) bool {
	for i := range e.Copies {
		for _, copies := range e.Copies[i] {
			others := 0
			for _, m := range copies {
				if m != n {
					others++
				}
			}
			if others == 0 {
				return true
			}
		}
	}
	return false
}

// SegmentStates counts e's stored segments by state: how many have a chunk
// with one good copy only (degraded) and with none (incomplete).
func (e *Entry) SegmentStates() (degraded, incomplete int) {
	for i := range e.Copies {
		switch stateOf(e.Copies[i]) {
		case StateDegraded:
			degraded++
		case StateIncomplete:
			incomplete++
		}
	}
	return degraded, incomplete
}

// OK reports whether every file survives the loss of any one node, and no
// node served anything that failed authentication.
func (r *StatusReport) OK() bool { return len(r.Lost) == 0 && len(r.AtRisk) == 0 && len(r.Forged) == 0 }

// Summary is the sentence that matters: which nodes served what failed
// authentication, and either that every file survives the loss of any one
// node, or which files would be lost if which node died.
func (r *StatusReport) Summary(c *Client) string {
	var b strings.Builder
	for _, n := range sortedNodes(r.Forged) {
		b.WriteString(r.Forged[n].Report(c.NodeName(n)) + "\n")
	}
	if len(r.Lost) == 0 && len(r.AtRisk) == 0 {
		fmt.Fprintf(&b, "all %d files survive the loss of any one node", len(r.Files))
		return b.String()
	}
	if len(r.Lost) > 0 {
		fmt.Fprintf(&b, "%d files cannot be read now (a chunk has no copy on the nodes that answered): %s\n", len(r.Lost), list(r.Lost))
	}
	for _, n := range sortedNodes(r.AtRisk) {
		fmt.Fprintf(&b, "if %s died, %d files would be lost: %s\n", c.NodeName(n), len(r.AtRisk[n]), list(r.AtRisk[n]))
	}
	b.WriteString("run `dfc heal` once every node is up to restore the second copies")
	return b.String()
}

// sortedNodes returns m's nodes in order.
func sortedNodes[V any](m map[int]V) []int {
	nodes := make([]int, 0, len(m))
	for n := range m {
		nodes = append(nodes, n)
	}
	sort.Ints(nodes)
	return nodes
}

func list(names []string) string {
	if len(names) > 10 {
		return strings.Join(names[:10], ", ") + fmt.Sprintf(" and %d more", len(names)-10)
	}
	return strings.Join(names, ", ")
}
