// Package faults is dfs's fault-injection suite: four real dfsnode processes,
// each in its own network namespace (its own host and address; see
// testcluster.Namespaces), a steady stream of writes and reads from four
// clients, and kills, restarts, silent network cuts, wiped disks and
// corrupted chunk files meanwhile. A checker then reads back every
// acknowledged write. See TestFaultSuite and scripts/faults.sh.
package faults
