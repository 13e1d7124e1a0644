# dfs: thin targets over go and scripts/.
GO ?= go
DATA ?= dfs-data
# The demo mount lives outside the source tree: go's ./... patterns (make
# test) would otherwise walk into it, and fail once its nodes are stopped.
MNT ?= $(HOME)/dfs

.PHONY: build run stop test layers unit fuzz darwin bench bench-go clean

build:
	$(GO) build -o bin/ ./cmd/...

# Start four local nodes and mount Alice's files at $(MNT).
run:
	scripts/cluster.sh mount $(DATA) $(MNT)

stop:
	-scripts/cluster.sh unmount $(DATA) $(MNT)
	scripts/cluster.sh stop $(DATA)

# Everything CI runs: the layering check, vet, every test under the race
# detector, 30,000 executions of each fuzz target, and a macOS build.
test: layers unit fuzz darwin

# The node and the shared model (core, core/wire) must never depend on the
# client library: client and node are peers over core.
layers:
	@for p in ./node/... ./core ./core/wire; do \
		if $(GO) list -deps $$p | grep -qx 'dfs/core/client'; then \
			echo "layers: $$p imports dfs/core/client; node/ and core/ must not depend on the client" >&2; exit 1; \
		fi; \
	done

unit:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

# A count per target (see scripts/fuzz.sh for why not a duration).
fuzz:
	FUZZTIME=$${FUZZTIME:-30000x} scripts/fuzz.sh

darwin:
	GOOS=darwin $(GO) build ./...
	GOOS=darwin $(GO) vet ./...

# The benchmark against local disk, go-fuse's loopback and sshfs
# (BENCH_FLAGS=-install-sshfs to install sshfs and sshd first).
bench:
	scripts/bench.sh $(BENCH_FLAGS)

# Go benchmarks: put/get of 256 MiB on a loopback cluster against a local
# disk copy in the same run, plus hashing and chunk arithmetic.
bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./core/...

clean:
	rm -rf bin
