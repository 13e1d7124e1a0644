package main

import (
	"net"
	"os"
)

// notify tells systemd about the service's state when it started dfsmount
// as a Type=notify service (docs/systemd/): "READY=1" once the mount is
// usable, "STOPPING=1" when it unmounts. Without $NOTIFY_SOCKET it does
// nothing. This is sd_notify(3)'s protocol: one datagram to that socket,
// "@" standing for the abstract namespace.
func notify(state string) error {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	if addr[0] == '@' {
		addr = "\x00" + addr[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}
