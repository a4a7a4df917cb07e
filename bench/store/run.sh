#!/usr/bin/env bash
# Store benchmarks (store/memstore): Create/Update writes/s of a ~1 KiB pod
# from 1 and 64 goroutines (wall clock and per CPU second), for plain writes
# (a copy in and a copy out), writes that hand the object over
# (store.Consume, suffix _consume) and writes that copy nothing (Consume and
# store.SharedResult, suffix _zerocopy); List of 100,000 pods by label and
# by field selector; watch fan-out to 1,000 node-filtered watchers over
# 100,000 pod writes (events/s and delivery latency), with one writer going
# flat out and one paced at 200,000 writes/s (_paced_200k); memory per idle
# watcher; then the per-operation cost of the write path (ns, bytes and
# allocations per op of a ~1 KiB pod: one deep copy, Create in each mode,
# Update, Create with 1,000 watchers), which moves least with machine load.
# Prints `figure: NAME VALUE UNIT` lines. Extra arguments go to the program
# (e.g. -writes 20000 for a quick run).
# Each part runs in a process of its own, so that one part's heap (the
# writes leave a gigabyte to the scavenger) does not tax the next.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/store" ./bench/store
"$bin/store" -only idle "$@"
for part in writes list fanout; do
	"$bin/store" -only "$part" "$@" | grep -v '^figure: host_cpus\|^figure: pod_encoded_size'
done
go test -run '^$' -bench 'Pod1K' -benchmem -benchtime 20000x ./store/memstore | go run ./hack/figures
