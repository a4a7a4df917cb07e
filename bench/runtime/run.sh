#!/usr/bin/env bash
# Container start latency (needs root): a busybox container started
# directly through libcontainer (the floor) and the same container through
# the Runtime interface (sandbox + create + start), p50/p99 over 50 starts
# each, alternating, and the ratios. Prints `figure: NAME VALUE UNIT` lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
go run ./bench/runtime "$@"
