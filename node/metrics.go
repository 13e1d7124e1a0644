package node

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"dfs/core/wire"
)

// Metrics are a node's Prometheus metrics (dfsnode -metrics ADDR): requests,
// bytes, errors and latencies per operation, uploads in flight, connections
// and quarantined chunks. Every series carries the node's name as label
// "node". A nil *Metrics records nothing.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // op, result
	latency  *prometheus.HistogramVec // op
	bytes    *prometheus.CounterVec   // op, direction
	inFlight *prometheus.GaugeVec     // op
	conns    prometheus.Gauge
}

// NewMetrics returns the metrics of the node named name, with the Go
// runtime's and the process's beside them.
func NewMetrics(name string) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r := prometheus.WrapRegistererWith(prometheus.Labels{"node": name}, m.reg)
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dfs_node_requests_total",
		Help: "Requests served, by operation and result (ok, refused: the node answered with an error, conn_error: the connection failed)."},
		[]string{"op", "result"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dfs_node_request_duration_seconds",
		Help:    "Time from a request's arrival to its reply, by operation.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10)}, // 0.5 ms .. 131 s
		[]string{"op"})
	m.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dfs_node_bytes_total",
		Help: "Protocol bytes received (in) and sent (out), by operation."},
		[]string{"op", "direction"})
	m.inFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dfs_node_requests_in_flight",
		Help: "Requests being served, by operation (PUT_CHUNK: chunk uploads in flight)."},
		[]string{"op"})
	m.conns = prometheus.NewGauge(prometheus.GaugeOpts{Name: "dfs_node_connections", Help: "Open client connections."})
	r.MustRegister(m.requests, m.latency, m.bytes, m.inFlight, m.conns)
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// watchStore adds the gauges read from the server's data folder at each
// scrape.
func (m *Metrics) watchStore(s *Server) {
	if m == nil {
		return
	}
	r := prometheus.WrapRegistererWith(prometheus.Labels{"node": s.cfg.Name}, m.reg)
	r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "dfs_node_quarantined_chunks",
		Help: "Bad chunk copies set aside in the quarantine folders (heal restores them from the good copy)."},
		func() float64 { return float64(s.store.QuarantineCount()) }))
}

// begin counts a request of type t on wc that is starting and returns what
// ends it with its error. The bytes counted are those the connection moved
// since the request before ended (wire.Conn.Take): the request's own frame
// and data, and what was read ahead with them.
func (m *Metrics) begin(t wire.Type, wc *wire.Conn) func(err error) {
	if m == nil {
		return func(error) {}
	}
	op := strings.ToLower(t.String())
	start := time.Now()
	g := m.inFlight.WithLabelValues(op)
	g.Inc()
	return func(err error) {
		g.Dec()
		result := "ok"
		var ce *connError
		switch {
		case errors.As(err, &ce):
			result = "conn_error"
		case err != nil:
			result = "refused"
		}
		m.requests.WithLabelValues(op, result).Inc()
		m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
		in, out := wc.Take()
		m.bytes.WithLabelValues(op, "in").Add(float64(in))
		m.bytes.WithLabelValues(op, "out").Add(float64(out))
	}
}

// conn counts a connection opening (+1) or closing (-1).
func (m *Metrics) conn(delta float64) {
	if m != nil {
		m.conns.Add(delta)
	}
}
