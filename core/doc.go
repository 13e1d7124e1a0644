// Package core is what dfs clients and chunk nodes share: chunk arithmetic,
// the placement table, names, version ids and the sentinel errors. The
// protocol both speak is its subpackage wire; the client library is its
// subpackage client. Nothing here does I/O, and node/ never imports the
// client.
package core
