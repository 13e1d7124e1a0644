// Package crashtest runs the built dfsnode and dfc binaries as real
// processes and kills them with SIGKILL in the middle of writes, to check
// that a crash never leaves a file torn: a reader sees the old version or the
// new one, whole. The moments come from a seed printed by each test; set
// DFS_CRASH_SEED to replay the same sizes, contents, delays and victims
// (where in the write a delay lands still depends on the machine's speed).
// The tests are in crash_test.go, on testcluster's process back end.
package crashtest
