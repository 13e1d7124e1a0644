package client_test

import (
	"bytes"
	"testing"
	"time"

	"dfs/core/client"
	"dfs/internal/testcluster"
)

// TestHungNode: a node that stops answering without closing anything (a
// SIGSTOPped process, a stuck disk) costs each operation about
// Config.Stall, not the reply or I/O timeouts (5 s and 30 s), and never
// takes its healthy partners down with it. Each operation meets the hung
// node afresh: the client holds pooled connections to it, which the hung
// node takes and never answers.
func TestHungNode(t *testing.T) {
	c := testcluster.Start(t)
	cfg := c.Config("alice", "Crimson33")
	cfg.RetryDown = 100 * time.Millisecond // so that each operation finds the node again
	cfg.Stall = 300 * time.Millisecond     // the default is 1 s; shorter keeps the test short
	cl, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	data := randBytes(t, 8<<20)
	small := []byte("a small file")
	mustPut(t, cl, "big", data)
	mustPut(t, cl, "small", small)
	ops := []struct {
		name string
		run  func() error
	}{
		{"put 8 MiB", func() error { _, err := put(t, cl, "big", data); return err }},
		{"put small", func() error { _, err := put(t, cl, "small", small); return err }},
		{"stat", func() error { _, err := cl.Stat(ctxT(t), "big"); return err }},
		{"readdir", func() error { _, err := cl.ReadDir(ctxT(t), ""); return err }},
		{"read", func() error {
			f, err := cl.Open(ctxT(t), "big")
			if err != nil {
				return err
			}
			defer f.Close()
			p := make([]byte, 1<<20)
			for off := int64(0); off < int64(len(data)); off += int64(len(p)) {
				if _, err := f.ReadAtContext(ctxT(t), p, off); err != nil {
					return err
				}
				if !bytes.Equal(p, data[off:off+int64(len(p))]) {
					t.Fatalf("read at %d: wrong bytes", off)
				}
			}
			return nil
		}},
		{"get", func() error { mustGet(t, cl, "big", data); return nil }},
		{"mkdir", func() error { _, err := cl.Mkdir(ctxT(t), "d", 0o755); return err }},
		{"setattr", func() error { _, err := cl.SetAttr(ctxT(t), "small", ptrMode(0o600), nil); return err }},
		{"rename", func() error { return cl.Rename(ctxT(t), "small", "small2") }},
		{"remove", func() error { return cl.Remove(ctxT(t), "small2") }},
		{"sync", func() error { return cl.Sync(ctxT(t)) }},
		{"statfs", func() error { _, err := cl.StatFS(ctxT(t)); return err }},
	}
	for _, op := range ops {
		// Every node up and pooled, then DFS1 hangs.
		time.Sleep(200 * time.Millisecond) // past the client's skip of DFS1
		if st, err := cl.Ping(ctxT(t)); err != nil || !st[0].Up {
			t.Fatalf("before %s: DFS1 not back: %v", op.name, err)
		}
		c.Freeze(0)
		start := time.Now()
		err := op.run()
		d := time.Since(start)
		c.Thaw(0)
		if err != nil {
			t.Fatalf("%s with DFS1 hung: %v", op.name, err)
		}
		t.Logf("%s with DFS1 hung: %v", op.name, d.Round(time.Millisecond))
		// Generous beside the allowance (the machine may be loaded); the
		// timeouts it replaces are 5 s and 30 s.
		if d > 3*time.Second {
			t.Errorf("%s with DFS1 hung took %v", op.name, d)
		}
	}
	mustPut(t, cl, "big", data)
	c.Freeze(0)
	mustPut(t, cl, "big", data) // leaves DFS1's copies behind
	c.Thaw(0)
	st, err := cl.Stat(ctxT(t), "big")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != client.StateDegraded {
		t.Errorf("the put with DFS1 hung: state %v, want degraded", st.State)
	}
	// Once it answers again, heal restores the copies it missed.
	time.Sleep(300 * time.Millisecond) // past the client's skip of DFS1
	if _, err := cl.Heal(ctxT(t), client.HealOptions{}); err != nil {
		t.Fatalf("heal after the thaw: %v", err)
	}
	if st, err := cl.Stat(ctxT(t), "big"); err != nil || st.State != client.StateOK {
		t.Fatalf("after heal: %v, %v", st.State, err)
	}
	mustGet(t, cl, "big", data)
}
