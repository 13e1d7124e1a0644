#!/usr/bin/env bash
# Long fault run: four dfsnode processes in their own network namespaces,
# four clients writing and reading, and kills, silent cuts (nft drop),
# wiped disks and corrupted chunks meanwhile; then every acknowledged write
# is read back. Must run as root (ip netns, veth, nft); no sudo inside.
#
#   scripts/faults.sh [DURATION]      DURATION of the workload, default 10m
#
# Env: DFS_FAULT_HEAL_UNDER_LOAD=1 heals between faults while the clients
# keep writing (by default they pause during each heal).
#
# Read the result from the line starting "faults:" near the end:
#   faults: N operations, F faults (k kills, d drops, w wipes, c corruptions),
#   A acknowledged writes checked, L lost, C corrupt, M mixed
# Anything but 0 lost, 0 corrupt, 0 mixed (each failure is listed above it
# with its time and file) or a "not every file survives" line is a bug.
# Node logs are printed when the run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "faults.sh: must run as root (network namespaces, veth, nft)" >&2
	exit 1
fi
# DFS_REQUIRE_NETNS=1: fail instead of skipping when namespaces are unusable.
# No -race: the long run is about many faults, and -race slows it several
# fold. -timeout 0: the run is as long as asked.
DFS_REQUIRE_NETNS=1 DFS_FAULT_DURATION="${1:-10m}" \
	go test -run '^TestFaultSuite$' -v -count=1 -timeout 0 ./internal/faults/ |
	grep -v 'level=INFO'
