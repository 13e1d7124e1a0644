package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"dfs/core/wire"
)

// Metrics are a client's Prometheus metrics (dfsmount -metrics ADDR):
// requests, bytes, errors and latencies per operation and node, puts in
// flight, each node's state and quarantined chunks as the healer's checks
// last saw them, and heal progress. Set Config.Metrics to collect them; a
// nil *Metrics records nothing.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec   // op, node, result
	latency     *prometheus.HistogramVec // op, node
	bytes       *prometheus.CounterVec   // node, direction
	puts        prometheus.Gauge
	nodeUp      *prometheus.GaugeVec // node
	quarantined *prometheus.GaugeVec // node
	healRunning prometheus.Gauge
	heals       *prometheus.CounterVec // result
	healFiles   prometheus.Counter
	healChunks  prometheus.Counter
	healBytes   prometheus.Counter
	healLast    prometheus.Gauge
	atRisk      prometheus.Gauge
	healMissed  prometheus.Gauge
}

// NewMetrics returns a client's metrics, with the Go runtime's and the
// process's beside them.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dfs_client_requests_total",
		Help: "Requests to the nodes, by operation, node and result (ok; refused: the node answered with an error; error: no answer or a broken connection)."},
		[]string{"op", "node", "result"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dfs_client_request_duration_seconds",
		Help:    "Time of a request to a node, from sending it to its reply, by operation and node.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10)}, // 0.5 ms .. 131 s
		[]string{"op", "node"})
	m.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dfs_client_bytes_total",
		Help: "Protocol bytes sent to (out) and received from (in) each node."}, []string{"node", "direction"})
	m.puts = prometheus.NewGauge(prometheus.GaugeOpts{Name: "dfs_client_uploads_in_flight", Help: "Puts (file uploads) in progress."})
	m.nodeUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dfs_client_node_up",
		Help: "1 when the node answered the client's last check (dfsmount checks every 10 s), else 0."}, []string{"node"})
	m.quarantined = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dfs_client_node_quarantined_chunks",
		Help: "Bad chunk copies the node has set aside, as its last answer said."}, []string{"node"})
	m.healRunning = prometheus.NewGauge(prometheus.GaugeOpts{Name: "dfs_client_heal_running", Help: "1 while a heal runs."})
	m.heals = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dfs_client_heals_total",
		Help: "Heals finished, by result (ok, incomplete: some entry or node was left for the next heal)."}, []string{"result"})
	m.healFiles = prometheus.NewCounter(prometheus.CounterOpts{Name: "dfs_client_heal_files_checked_total", Help: "Files heal looked at."})
	m.healChunks = prometheus.NewCounter(prometheus.CounterOpts{Name: "dfs_client_heal_chunks_copied_total", Help: "Chunk copies heal restored."})
	m.healBytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "dfs_client_heal_bytes_copied_total", Help: "Bytes of the chunk copies heal restored."})
	m.healLast = prometheus.NewGauge(prometheus.GaugeOpts{Name: "dfs_client_heal_last_complete_timestamp_seconds",
		Help: "Unix time the last heal that finished everything ended."})
	m.atRisk = prometheus.NewGauge(prometheus.GaugeOpts{Name: "dfs_client_files_at_risk",
		Help: "Files the last heal could not give two good copies of every chunk (lost, failed or being written); with dfs_client_heal_nodes_missed > 0, files with a chunk on a missed node are at risk too."})
	m.healMissed = prometheus.NewGauge(prometheus.GaugeOpts{Name: "dfs_client_heal_nodes_missed",
		Help: "Nodes the last heal could not reach."})
	m.reg.MustRegister(m.requests, m.latency, m.bytes, m.puts, m.nodeUp, m.quarantined, m.healRunning, m.heals,
		m.healFiles, m.healChunks, m.healBytes, m.healLast, m.atRisk, m.healMissed)
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// request counts what one request on conn to node, sent at sent, did:
// call's hook. Its bytes are what the connection moved since the request
// before (wire.Conn.Take), the login's included.
func (m *Metrics) request(node string, conn *wire.Conn, sent time.Time, err error) {
	if m == nil {
		return
	}
	op := "unknown"
	if t := conn.LastSent(); t != 0 {
		op = strings.ToLower(t.String())
	}
	result := "ok"
	var re *wire.RemoteError
	switch {
	case errors.As(err, &re):
		result = "refused"
	case err != nil:
		result = "error"
	}
	m.requests.WithLabelValues(op, node, result).Inc()
	m.latency.WithLabelValues(op, node).Observe(time.Since(sent).Seconds())
	in, out := conn.Take()
	m.bytes.WithLabelValues(node, "in").Add(float64(in))
	m.bytes.WithLabelValues(node, "out").Add(float64(out))
}

// putStarted counts a put in flight and returns what ends it.
func (m *Metrics) putStarted() func() {
	if m == nil {
		return func() {}
	}
	m.puts.Inc()
	return m.puts.Dec
}

// nodeInfo records a node's answer to INFO (or its failure).
func (m *Metrics) nodeInfo(node string, info NodeInfo, err error) {
	if m == nil || errors.Is(err, context.Canceled) {
		return // the caller gave up: says nothing about the node
	}
	if err != nil {
		m.nodeUp.WithLabelValues(node).Set(0)
		return
	}
	m.nodeUp.WithLabelValues(node).Set(1)
	m.quarantined.WithLabelValues(node).Set(float64(info.Quarantine))
}

// healStarted marks a heal running and returns what records its report.
func (m *Metrics) healStarted() func(rep *HealReport, err error) {
	if m == nil {
		return func(*HealReport, error) {}
	}
	m.healRunning.Set(1)
	return func(rep *HealReport, err error) {
		m.healRunning.Set(0)
		m.healFiles.Add(float64(rep.Files))
		m.healChunks.Add(float64(rep.ChunksCopied))
		m.healBytes.Add(float64(rep.BytesCopied))
		m.atRisk.Set(float64(len(rep.Lost) + len(rep.Left())))
		m.healMissed.Set(float64(len(rep.Failed)))
		if err != nil || len(rep.Failed) > 0 || len(rep.Left()) > 0 {
			m.heals.WithLabelValues("incomplete").Inc()
			return
		}
		m.heals.WithLabelValues("ok").Inc()
		m.healLast.SetToCurrentTime()
	}
}
