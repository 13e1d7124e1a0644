package core

// Test hooks for the external core_test package.

// SegmentSize is the read-ahead request size.
const SegmentSize = segmentSize

// ReadAheadFree returns how much of the read-ahead budget is unused.
func (c *Client) ReadAheadFree() int64 { return c.raBudget.left.Load() }

// ReadAheadWait waits until the File's read-ahead requests have finished
// and returns how many segments it holds.
func (f *File) ReadAheadWait() int {
	f.ra.mu.Lock()
	segs := append([]*segment(nil), f.ra.segs...)
	f.ra.mu.Unlock()
	for _, s := range segs {
		<-s.done
	}
	return len(segs)
}
