#!/usr/bin/env bash
# Run every go fuzz target in the module for $FUZZTIME each. The default is
# a count of executions, not a duration: with a duration, Go's fuzz
# coordinator (go1.26) can report a spurious "context deadline exceeded"
# failure when the time runs out under load (golang/go#75804).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30000x}
# Each "func FuzzX(" in a _test.go file is one target, run in its package.
grep -rl --include='*_test.go' '^func Fuzz' . | while read -r file; do
	pkg=./$(dirname "${file#./}")
	for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | cut -d' ' -f2); do
		echo "fuzz $pkg $target ($FUZZTIME)"
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$pkg"
	done
done
