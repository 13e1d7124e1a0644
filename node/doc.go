// Package node is the serving half of the dfs chunk node: it accepts
// connections, authenticates users against its Accounts (throttling failed
// logins), and answers the wire protocol (docs/protocol.md) by checking
// each request and handing it to the user's folder in node/store, which
// keeps the data folder (docs/format.md).
//
// Every connection is handled by its own goroutine and its requests are
// sequential. Paths from requests are checked with core.CleanName before
// they reach the store, and a change the store refuses (a store.Refusal)
// is answered with the status of its reason.
package node
