#!/usr/bin/env bash
# Control-plane throughput in testenv: a Deployment of 10,000 replicas over
# 1,000 fake nodes (real scheduler, controllers and informers over a
# memstore; fake nodes simulated), from creation to every pod running and
# ready, then a rolling update of all of them. Target: scale-up under 10 s
# on 2 cores (orchestrator_scaleup_vs_target >= 1 meets it).
# Prints `figure: NAME VALUE UNIT` lines.
set -euo pipefail
cd "$(dirname "$0")/../.."

bin="$(mktemp -d)/orchestrator-bench"
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./bench/orchestrator

"$bin" -nodes "${NODES:-1000}" -replicas "${REPLICAS:-10000}"

# testenv startup (3 nodes, the unit-test case; and 100 nodes).
go test -run '^$' -bench 'Startup' -benchtime 200x ./orchestrator/testenv/ 2>/dev/null |
	go run ./hack/figures 2>/dev/null | grep -E 'ns_per_op ' | sed 's/^figure: startup_/figure: orchestrator_testenv_startup_/' || true
