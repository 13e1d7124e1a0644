package cli

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServeMetrics serves h at http://addr/metrics (the -metrics flag of
// dfsnode and dfsmount) until stop is called. The listener is opened
// before it returns, so a taken port is an error at start, not a log line
// later.
func ServeMetrics(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() { srv.Close() }, nil
}
