#!/usr/bin/env bash
# Service proxy benchmarks (needs root; each run in a fresh network
# namespace): full sync of 1,000 and 10,000 services of 2 endpoints each, a
# restarted proxy taking over 10,000 programmed services, store-to-rules for
# the first sync, and Endpoints-change-to-rule latency with 10,000 services
# programmed; plus the pure rule generation cost. Prints
# `figure: NAME VALUE UNIT` lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
go run ./bench/network "$@"
go test -run '^$' -bench . -benchtime 5x ./network/proxy | go run ./hack/figures
