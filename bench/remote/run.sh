#!/usr/bin/env bash
# Overhead of the remote store path (store/remote over loopback HTTP) over
# an in-process memstore, for get, create, watch delivery latency (one
# write, wait for its event) and watch throughput (per event of a stream of
# 100-object transactions), measured in the same run. Prints `figure:` lines: each benchmark's ns/op, B/op and
# allocs/op, and the remote/in-process ratios.
# BENCHTIME (default 3000x) sets iterations per benchmark.
set -euo pipefail
cd "$(dirname "$0")/../.."
benchtime=${BENCHTIME:-3000x}
figures=$(go test -run '^$' -bench . -benchtime "$benchtime" -count 1 ./bench/remote/ | go run ./hack/figures)
echo "$figures"
echo "$figures" | awk '
  $1 == "figure:" && $2 ~ /_ns_per_op$/ {
    name = $2; sub(/_ns_per_op$/, "", name); ns[name] = $3
  }
  END {
    n = split("get create watchdelivery watchthroughput", ops, " ")
    for (i = 1; i <= n; i++) {
      base = ns[ops[i] "_inprocess"]
      if (base == "" || base == 0) { print "missing in-process figure for " ops[i] > "/dev/stderr"; exit 1 }
      split("remote_protobuf remote_json", ways, " ")
      for (j = 1; j <= 2; j++) {
        v = ns[ops[i] "_" ways[j]]
        if (v == "") { print "missing figure " ops[i] "_" ways[j] > "/dev/stderr"; exit 1 }
        printf "figure: %s_%s_vs_inprocess %.1f x\n", ops[i], ways[j], v / base
        printf "figure: %s_%s_overhead_us %.1f us\n", ops[i], ways[j], (v - base) / 1000
      }
    }
  }'
