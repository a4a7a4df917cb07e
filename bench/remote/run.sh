#!/usr/bin/env bash
# Overhead of the remote store path (store/remote over loopback HTTP) over
# an in-process memstore, for get, create, watch delivery latency (one
# write, wait for its event) and watch throughput (per event of a stream of
# 100-object transactions), measured in the same run.
#
# Each benchmark runs COUNT times (default 3) of BENCHTIME iterations
# (default 3000x); every figure is the best (lowest) of the runs, which is
# the least disturbed by other load on the machine. Prints `figure:` lines:
# each benchmark's ns/op, B/op and allocs/op, then the remote/in-process
# ratios and the added microseconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
benchtime=${BENCHTIME:-3000x}
count=${COUNT:-3}
figures=$(go test -run '^$' -bench . -benchtime "$benchtime" -count "$count" ./bench/remote/ | go run ./hack/figures)
echo "$figures" | awk '
  $1 == "figure:" {
    if (!($2 in best) || $3 + 0 < best[$2] + 0) { best[$2] = $3; unit[$2] = $4 }
    if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 }
  }
  END {
    for (i = 1; i <= n; i++) printf "figure: %s %s %s\n", order[i], best[order[i]], unit[order[i]]
    split("get create watchdelivery watchthroughput", ops, " ")
    split("remote_protobuf remote_json", ways, " ")
    for (i = 1; i <= 4; i++) {
      base = best[ops[i] "_inprocess_ns_per_op"]
      if (base == "" || base == 0) { print "missing in-process figure for " ops[i] > "/dev/stderr"; exit 1 }
      for (j = 1; j <= 2; j++) {
        v = best[ops[i] "_" ways[j] "_ns_per_op"]
        if (v == "") { print "missing figure " ops[i] "_" ways[j] > "/dev/stderr"; exit 1 }
        printf "figure: %s_%s_vs_inprocess %.1f x\n", ops[i], ways[j], v / base
        printf "figure: %s_%s_overhead_us %.1f us\n", ops[i], ways[j], (v - base) / 1000
      }
    }
  }'
