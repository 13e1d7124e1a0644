package faults

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

const (
	namesPerClient = 30
	minSize        = 1 << 10
	maxSize        = 512 << 10
)

// op is one write to a name: a put of content generated from seed, or a
// remove. acked says the call returned without error.
type op struct {
	rm    bool
	seed  uint64
	size  int
	sum   [sha256.Size]byte
	acked bool
}

// content regenerates a put's bytes, so the record keeps only seeds.
func content(seed uint64, size int) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(size)))
	b := make([]byte, (size+7)&^7)
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:size]
}

// history is every write to one name, in order. Each name has a single
// writer (its client), so the order is the real one.
type history []op

// allowed returns the writes a read may show now: the last acknowledged
// one (or "never written") and every unacknowledged one after it, since a
// failed write may or may not have taken effect, but only whole.
func (h history) allowed() (out []op, sawAck bool) {
	last := -1
	for i := range h {
		if h[i].acked {
			last = i
		}
	}
	if last < 0 {
		out = append(out, op{rm: true}) // never written counts as absent
		return append(out, h...), false
	}
	return h[last:], true
}

// verdict is what a read showed, checked against the history.
type verdict int

const (
	readOK verdict = iota
	readUnavailable
	readLost    // an acknowledged write is missing, or an older version came back
	readCorrupt // bytes that no write ever wrote
	readMixed   // every chunk from some version, but not all from the same
)

// judge classifies the result of Get (data and err) against h.
func judge(h history, data []byte, err error) (verdict, string) {
	allowed, _ := h.allowed()
	if errors.Is(err, core.ErrNotFound) {
		for _, o := range allowed {
			if o.rm {
				return readOK, ""
			}
		}
		return readLost, "not found, but the last acknowledged write is a put"
	}
	if err != nil {
		return readUnavailable, err.Error()
	}
	sum := sha256.Sum256(data)
	for _, o := range allowed {
		if !o.rm && o.sum == sum {
			return readOK, ""
		}
	}
	for _, o := range h {
		if !o.rm && o.sum == sum {
			return readLost, fmt.Sprintf("read an older version (seed %d), not the last acknowledged one", o.seed)
		}
	}
	if mixed(h, data) {
		return readMixed, fmt.Sprintf("%d bytes mixed from several versions", len(data))
	}
	return readCorrupt, fmt.Sprintf("%d bytes match no version written", len(data))
}

// mixed reports whether every chunk of every segment of data equals that
// chunk of some written version of the same size.
func mixed(h history, data []byte) bool {
	var same [][]byte
	for _, o := range h {
		if !o.rm && o.size == len(data) {
			same = append(same, content(o.seed, o.size))
		}
	}
	if len(same) < 2 {
		return false
	}
	for k := int64(0); k < core.NumSegments(int64(len(data))); k++ {
		start, end := core.SegmentSpan(int64(len(data)), k)
		for ch := 0; ch < core.NumChunks; ch++ {
			s, e := core.ChunkBounds(end-start, ch)
			s, e = start+s, start+e
			found := false
			for _, v := range same {
				if bytes.Equal(v[s:e], data[s:e]) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	return true
}

// counts are what a tally counts.
type counts struct {
	puts, acked, gets, rms, verified int
	unavailable, putFailed           int
	lost, corrupt, mixed             int
}

// tally counts what happened; safe for concurrent use.
type tally struct {
	mu sync.Mutex // guards the fields below
	counts
	failures []string
}

// snapshot returns the counts so far.
func (t *tally) snapshot() counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts
}

func (t *tally) record(v verdict, name, msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch v {
	case readOK:
		t.verified++
		return
	case readUnavailable:
		t.unavailable++
		return
	case readLost:
		t.lost++
	case readCorrupt:
		t.corrupt++
	case readMixed:
		t.mixed++
	}
	if len(t.failures) < 50 {
		t.failures = append(t.failures, fmt.Sprintf("%s %s: %s", time.Now().Format("15:04:05.000"), name, msg))
	}
}

func (t *tally) add(f func(t *tally)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(t)
}

// worker is one client writing and reading its own names.
type worker struct {
	gate    *sync.RWMutex // held shared per operation; see injector.gate
	id      int
	client  *client.Client
	rnd     *rand.Rand
	hist    map[string]history // written only by this worker's goroutine
	nextSeq uint64
}

func newWorker(id int, c *client.Client, seed uint64, gate *sync.RWMutex) *worker {
	return &worker{gate: gate, id: id, client: c, rnd: rand.New(rand.NewPCG(seed, uint64(id))), hist: map[string]history{}}
}

// run does random operations until ctx ends.
func (w *worker) run(ctx context.Context, t *tally) {
	for ctx.Err() == nil {
		name := fmt.Sprintf("c%d-f%02d", w.id, w.rnd.IntN(namesPerClient))
		// Each call gets its own deadline, not ctx: an operation cut short
		// by the end of the run would be a failure of the suite, not of dfs.
		opCtx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		w.gate.RLock()
		switch p := w.rnd.IntN(100); {
		case p < 50:
			w.put(opCtx, name, t)
		case p < 92:
			w.get(opCtx, name, t)
		default:
			w.remove(opCtx, name, t)
		}
		w.gate.RUnlock()
		cancel()
	}
}

func (w *worker) put(ctx context.Context, name string, t *tally) {
	h := w.hist[name]
	size := minSize + w.rnd.IntN(maxSize-minSize+1)
	if len(h) > 0 && !h[len(h)-1].rm && w.rnd.IntN(2) == 0 {
		size = h[len(h)-1].size // same size: a mix of versions would be detectable
	}
	w.nextSeq++
	o := op{seed: uint64(w.id)<<48 | w.nextSeq, size: size}
	data := content(o.seed, size)
	o.sum = sha256.Sum256(data)
	_, err := w.client.Put(ctx, name, bytes.NewReader(data), int64(size), client.PutOptions{})
	o.acked = err == nil
	w.hist[name] = append(h, o)
	t.add(func(t *tally) {
		t.puts++
		if o.acked {
			t.acked++
		} else {
			t.putFailed++
		}
	})
}

func (w *worker) get(ctx context.Context, name string, t *tally) {
	data, err := testcluster.Get(ctx, w.client, name)
	v, msg := judge(w.hist[name], data, err)
	t.add(func(t *tally) { t.gets++ })
	t.record(v, name, "read during faults: "+msg)
}

func (w *worker) remove(ctx context.Context, name string, t *tally) {
	err := w.client.Remove(ctx, name)
	w.hist[name] = append(w.hist[name], op{rm: true, acked: err == nil})
	t.add(func(t *tally) { t.rms++ })
}
