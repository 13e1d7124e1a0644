// Package wire is the dfs protocol between clients and chunk nodes: framing,
// the request and reply messages, and the one place where connections are
// dialed and accepted (with TLS). The format is specified in docs/protocol.md.
package wire
