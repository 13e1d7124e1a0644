// Package trust holds the acceptance tests of end-to-end trust (issue 15,
// docs/security.md): what a node's operator, a stolen disk or a fake node
// can do against the client. The tests run dfsnode processes
// (testcluster.Processes), the dfc binary and real dfsmount mounts, and
// change the nodes' data folders behind their backs as an operator could.
package trust
