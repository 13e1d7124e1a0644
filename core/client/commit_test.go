package client

import (
	"bytes"
	"dfs/core"
	"dfs/core/wire"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestPutCommitsInWaves: the client's reaction to commits, against fake
// nodes. A file the nodes already hold is committed on DFS1+DFS3 first and
// on DFS2+DFS4 only once those answered, so that a writer killed between
// the waves leaves a whole version; a new file (no node holds one) is
// committed everywhere at once. A node that refuses the commit for lack of
// space costs the copies it was to hold, not the put.
func TestPutCommitsInWaves(t *testing.T) {
	const answerAfter = 500 * time.Millisecond
	for _, tc := range []struct {
		name   string
		exists bool
	}{{"existing file", true}, {"new file", false}} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var arrived, answered [core.NumNodes]time.Time
			var held [core.NumNodes]uint8
			var nodes [core.NumNodes]*fakeNode
			for n := range nodes {
				f := newFakeNode(t)
				f.handlers[wire.TypePutChunk] = func(conn *wire.Conn, body []byte) error {
					var buf bytes.Buffer
					req, err := recvChunk(conn, body, &buf)
					if err != nil {
						return err
					}
					mu.Lock()
					held[n] |= 1 << req.Chunk
					mu.Unlock()
					return conn.Send(wire.TypePutChunk, wire.StatusOK, wire.PutChunkResp{SHA256: sumOf(buf.Bytes()), Exists: tc.exists})
				}
				f.handlers[wire.TypeCommit] = func(conn *wire.Conn, body []byte) error {
					mu.Lock()
					arrived[n] = time.Now()
					mu.Unlock()
					time.Sleep(answerAfter)
					mu.Lock()
					answered[n] = time.Now()
					h := held[n]
					mu.Unlock()
					if n == 1 {
						return conn.SendError(wire.TypeCommit, wire.StatusNoSpace, "no space left on DFS2")
					}
					return conn.Send(wire.TypeCommit, wire.StatusOK, wire.CommitResp{Held: []uint8{h}})
				}
				nodes[n] = f
			}
			c := newFakeClient(t, Config{}, nodes)
			data := randData(t, 1<<20)
			res, err := c.Put(testCtx(t), "f", bytes.NewReader(data), int64(len(data)), PutOptions{})
			if err != nil {
				t.Fatalf("put with DFS2 out of space: %v", err)
			}
			if res.State != StateDegraded || len(res.Failed) != 1 || !errors.Is(res.Failed[1], core.ErrNoSpace) {
				t.Fatalf("put with DFS2 out of space: state %v, failed %v; want degraded, DFS2 out of space", res.State, res.Failed)
			}
			for ch, copies := range res.Entry.Copies[0] {
				want := 2
				if holders := core.ChunkNodes(res.Entry.Segments[0].X(), ch); slices.Contains(holders[:], 1) {
					want = 1
				}
				if len(copies) != want || slices.Contains(copies, 1) {
					t.Errorf("chunk %d: copies on %v, want %d not counting DFS2", ch+1, copies, want)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			firstWave := later(answered[0], answered[2]).Add(-answerAfter / 2)
			for _, n := range []int{1, 3} {
				if arrived[n].IsZero() {
					t.Fatalf("no commit reached %s", core.NodeName(n))
				}
				waited := !arrived[n].Before(firstWave)
				if tc.exists && !waited {
					t.Errorf("%s was sent its commit before DFS1 and DFS3 answered theirs", core.NodeName(n))
				}
				if !tc.exists && waited {
					t.Errorf("%s was sent its commit of a new file only after DFS1 and DFS3 answered theirs", core.NodeName(n))
				}
			}
		})
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
