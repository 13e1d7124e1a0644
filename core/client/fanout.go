package client

import (
	"context"
	"dfs/core"
	"errors"
	"fmt"
	"sync"
	"time"
)

// allNodes is the set of every node, in order.
var allNodes = []int{0, 1, 2, 3}

// errLagging is the error of a node an operation went on without: it had
// not answered (or, sending a chunk, had stopped taking data) well after the
// other nodes had. A hung node (stopped, swapping, its disk stuck) looks
// like this; it is skipped for a while (see nodePool.markDown) and heal
// brings it up to date.
var errLagging = errors.New("stopped answering while the other nodes answer; going on without it")

// lagAllowance is how long after the first node answered the others may
// still take: Config.Stall, or as long again as the first took, whichever
// is longer, so that a slow operation (a flush, a large chunk) does not
// leave a healthy but slower node behind.
func (c *Client) lagAllowance(start, first time.Time) time.Duration {
	return max(c.cfg.Stall, first.Sub(start))
}

// nodeGroup runs one request per node concurrently and leaves behind
// those that lag far behind the others and do not answer at all (hung; see
// lagAllowance and alive); sending a chunk also leaves a node that stops
// taking data (cut).
type nodeGroup struct {
	c       *Client
	ctx     context.Context
	start   time.Time
	results chan nodeResult
	cancels [core.NumNodes]context.CancelCauseFunc
	// canLeave, when set (before wait), says whether node n may be left
	// behind now: a write leaves a node only while every chunk it was to
	// hold has another copy (see succeeded). Called from wait only.
	canLeave func(n int) bool

	// Owned by wait:
	pending map[int]bool
	errs    []error
}

type nodeResult struct {
	n   int
	err error
}

// startGroup starts fn for each node in nodes, each with a context of its
// own (ended, with errLagging as its cause, when the node is left behind).
func (c *Client) startGroup(ctx context.Context, nodes []int, fn func(ctx context.Context, n int) error) *nodeGroup {
	g := &nodeGroup{c: c, ctx: ctx, start: time.Now(), results: make(chan nodeResult, len(nodes)),
		pending: make(map[int]bool, len(nodes)), errs: make([]error, core.NumNodes)}
	for _, n := range nodes {
		nctx, cancel := context.WithCancelCause(ctx)
		g.cancels[n] = cancel
		g.pending[n] = true
		go func() { g.results <- nodeResult{n, fn(nctx, n)} }()
	}
	return g
}

// succeeded reports whether node n's request in the group has ended
// without error (from canLeave only).
func (g *nodeGroup) succeeded(n int) bool {
	_, in := g.pending[n]
	return g.cancels[n] != nil && !in && g.errs[n] == nil
}

// cut gives up on node n now: its request ends with errLagging. It is safe
// to call from any goroutine, also after n finished.
func (g *nodeGroup) cut(n int) {
	g.cancels[n](fmt.Errorf("%w (for %v)", errLagging, time.Since(g.start).Round(time.Millisecond)))
}

// wait returns each node's error, indexed by node (nil for nodes not in
// the group and for successes), once every request has ended. Once a node
// answered, the others have lagAllowance to answer too; halfway through,
// those still pending are asked whether they are alive, and those found
// hung are cut when the allowance is over (and canLeave allows). A slow
// node that is alive is waited for: its request ends on its own timeouts.
func (g *nodeGroup) wait() []error {
	var check, deadline <-chan time.Time
	type verdict struct {
		n     int
		alive bool
	}
	verdicts := make(chan verdict, core.NumNodes)
	dead := map[int]bool{}
	expired := false
	leave := func() {
		for n := range dead {
			if g.pending[n] && (g.canLeave == nil || g.canLeave(n)) {
				g.cut(n)
				delete(dead, n)
			}
		}
	}
	for len(g.pending) > 0 {
		select {
		case r := <-g.results:
			delete(g.pending, r.n)
			g.errs[r.n] = r.err
			g.cancels[r.n](nil)
			if expired {
				leave() // a success may let a dead node go
			}
			if deadline == nil && len(g.pending) > 0 && isAnswer(r.err) {
				allow := g.c.lagAllowance(g.start, time.Now())
				ct, dt := time.NewTimer(allow/2), time.NewTimer(allow)
				defer ct.Stop()
				defer dt.Stop()
				check, deadline = ct.C, dt.C
			}
		case <-check:
			for n := range g.pending {
				go func() { verdicts <- verdict{n, g.c.alive(g.ctx, n, g.start)} }()
			}
		case <-deadline:
			expired = true
			leave()
		case v := <-verdicts:
			if !v.alive && g.pending[v.n] {
				dead[v.n] = true
				if expired {
					leave()
				}
			}
		}
	}
	return g.errs
}

// fanout runs fn for each node in nodes concurrently and returns each
// node's error, indexed by node (nil for nodes not in the set and for
// successes). Nodes that lag far behind the others are left behind (see
// nodeGroup).
func (c *Client) fanout(ctx context.Context, nodes []int, fn func(ctx context.Context, n int) error) []error {
	return c.startGroup(ctx, nodes, fn).wait()
}

// isAnswer reports whether err is a node's answer (success or a refusal),
// as opposed to a node that could not be reached or did not answer.
func isAnswer(err error) bool {
	var ne *nodeError
	return err == nil || errors.As(err, &ne)
}

// parallel runs fn(i) for i in [0, n) concurrently and returns each error.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errs
}
