package core

import (
	"context"
	"sync"
)

// allNodes is the set of every node, in order.
var allNodes = []int{0, 1, 2, 3}

// fanout runs fn for each node in nodes concurrently and returns each node's
// error, indexed by node (nil for nodes not in the set and for successes).
func (c *Client) fanout(ctx context.Context, nodes []int, fn func(ctx context.Context, n int) error) []error {
	errs := make([]error, NumNodes)
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[n] = fn(ctx, n)
		}()
	}
	wg.Wait()
	return errs
}
