package testcluster

import (
	"net"
	"time"
)

// listen listens on addr, or on a free loopback port when addr is "". It
// retries for a while: the port a node just left may take a moment to be
// free again.
func listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for try := 0; try < 50; try++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, err
}

// freeAddr returns a loopback address nothing listens on at the moment.
// Another process may take it before the caller does, so callers retry.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
