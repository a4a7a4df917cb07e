#!/usr/bin/env bash
# Scheduler throughput, like kube-scheduler's scheduler_perf SchedulingBasic:
# 5,000 fake nodes and 50,000 pods in a memstore, bound by the real default
# scheduler (every binding a compare-and-swap Update). A second run adds
# required pod anti-affinity (hostname, per group of 100 pods) and a zone
# topology spread constraint to every pod (5,000 nodes, 5,000 pods).
# Prints `figure: NAME VALUE UNIT` lines.
set -euo pipefail
cd "$(dirname "$0")/../.."

bin="$(mktemp -d)/scheduler-bench"
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./bench/scheduler

basic="$("$bin" -variant basic -nodes "${NODES:-5000}" -pods "${PODS:-50000}")"
echo "$basic"
"$bin" -variant affinity -nodes "${NODES:-5000}" -pods "${AFFINITY_PODS:-5000}"

# One scheduling decision at 5,000 nodes without the store (CPU per pod of
# the scheduling loop itself).
go test -run '^$' -bench 'SchedulerCycle5000Nodes' -benchtime 20000x ./scheduler/ 2>/dev/null |
	go run ./hack/figures 2>/dev/null | grep -E '_(ns_per_op|pods_per_s) '

# Ratio to the target of 8,000 pods/s on 2 cores (>= 1 meets it).
rate="$(awk '{print $3}' <<<"$basic")"
awk -v r="$rate" 'BEGIN { printf "figure: scheduler_basic_vs_target %.2f x\n", r / 8000 }'
