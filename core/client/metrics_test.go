package client_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
	"dfs/node"
)

// gatedReader is a file whose reads past gate bytes into any of its four
// chunks wait until open is closed, once the whole file was read (the put
// hashes it first, for its placement): a put of it stays in flight with
// its chunk uploads started.
type gatedReader struct {
	data    []byte
	gate    int64 // reads from here on wait for open
	open    chan struct{}
	reached chan struct{}
	once    sync.Once
}

func (g *gatedReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > g.gate {
		g.once.Do(func() { close(g.reached) })
		<-g.open
	}
	return copy(p, g.data[off:]), nil
}

// A scrape of /metrics during a put shows the upload in flight on the
// client and the node; after it, requests, bytes and latencies per
// operation and node.
func TestMetricsScrapeDuringPut(t *testing.T) {
	var mu sync.Mutex
	nodeMetrics := map[string]*node.Metrics{}
	c := testcluster.Start(t, testcluster.Configure(func(cfg *node.Config) {
		mu.Lock()
		defer mu.Unlock()
		if nodeMetrics[cfg.Name] == nil {
			nodeMetrics[cfg.Name] = node.NewMetrics(cfg.Name)
		}
		cfg.Metrics = nodeMetrics[cfg.Name]
	}))
	cm := client.NewMetrics()
	cfg := c.Config("alice", testcluster.Users["alice"])
	cfg.Metrics = cm
	cl := testcluster.NewClient(t, cfg)
	mu.Lock()
	nodeSrv := httptest.NewServer(nodeMetrics["DFS1"].Handler())
	mu.Unlock()
	defer nodeSrv.Close()
	clientSrv := httptest.NewServer(cm.Handler())
	defer clientSrv.Close()

	const size = 16 << 20
	// Held at its third segment: the first two are sent meanwhile.
	g := &gatedReader{data: randBytes(t, size), gate: 2 * core.SegmentSize, open: make(chan struct{}), reached: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := cl.Put(ctxT(t), "big.bin", g, size, client.PutOptions{Mode: 0o644})
		done <- err
	}()
	select {
	case <-g.reached:
	case err := <-done:
		t.Fatalf("put ended before its gate: %v", err)
	}
	// The put is held: the node took chunks of its first segments, the
	// client counts the put in flight.
	deadline := time.Now().Add(10 * time.Second)
	for metric(t, nodeSrv.URL, "dfs_node_requests_total", `node="DFS1"`, `op="put_chunk"`, `result="ok"`) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no put_chunk done on DFS1 while the put is held:\n%s", scrape(t, nodeSrv.URL))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v := metric(t, clientSrv.URL, "dfs_client_uploads_in_flight"); v != 1 {
		t.Errorf("client uploads in flight during the put: %v, want 1", v)
	}
	close(g.open)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	if v := metric(t, nodeSrv.URL, "dfs_node_requests_total", `node="DFS1"`, `op="put_chunk"`, `result="ok"`); v < 1 {
		t.Errorf("DFS1 put_chunk ok: %v", v)
	}
	// DFS1 holds two of the four chunks: half the file came in.
	if v := metric(t, nodeSrv.URL, "dfs_node_bytes_total", `node="DFS1"`, `op="put_chunk"`, `direction="in"`); v < size/2 {
		t.Errorf("DFS1 put_chunk bytes in: %v, want at least %d", v, size/2)
	}
	if v := metric(t, nodeSrv.URL, "dfs_node_request_duration_seconds_count", `node="DFS1"`, `op="commit"`); v < 1 {
		t.Errorf("DFS1 commit latencies: %v", v)
	}
	if v := metric(t, clientSrv.URL, "dfs_client_uploads_in_flight"); v != 0 {
		t.Errorf("client uploads in flight after the put: %v", v)
	}
	for _, n := range []string{"DFS1", "DFS2", "DFS3", "DFS4"} {
		if v := metric(t, clientSrv.URL, "dfs_client_requests_total", `node="`+n+`"`, `op="commit"`, `result="ok"`); v < 1 {
			t.Errorf("client commits on %s: %v", n, v)
		}
		if v := metric(t, clientSrv.URL, "dfs_client_bytes_total", `node="`+n+`"`, `direction="out"`); v < size/2 {
			t.Errorf("client bytes to %s: %v", n, v)
		}
	}

	// Heal progress and node state as the mount's healer records them.
	healCtx, stop := context.WithCancel(ctxT(t))
	go cl.RunHealer(healCtx, client.HealerOptions{Check: 20 * time.Millisecond, Every: time.Millisecond})
	deadline = time.Now().Add(10 * time.Second)
	for metric(t, clientSrv.URL, "dfs_client_heals_total", `result="ok"`) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no heal recorded:\n%s", scrape(t, clientSrv.URL))
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if v := metric(t, clientSrv.URL, "dfs_client_node_up", `node="DFS3"`); v != 1 {
		t.Errorf("DFS3 up: %v", v)
	}
	if v := metric(t, clientSrv.URL, "dfs_client_files_at_risk"); v != 0 {
		t.Errorf("files at risk: %v", v)
	}
	if v := metric(t, nodeSrv.URL, "dfs_node_quarantined_chunks", `node="DFS1"`); v != 0 {
		t.Errorf("quarantined: %v", v)
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return b.String()
}

// metric returns the value of the series name whose labels contain every
// one of labels (summed over the series that match), -1 if none does.
func metric(t *testing.T, url, name string, labels ...string) float64 {
	t.Helper()
	sum, found := 0.0, false
	sc := bufio.NewScanner(strings.NewReader(scrape(t, url)))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		sum, found = sum+v, true
	}
	if !found {
		return -1
	}
	return sum
}
