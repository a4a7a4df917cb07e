#!/usr/bin/env bash
# Container start latency (needs root): a busybox container started
# directly through libcontainer (the floor) and the same container through
# the Runtime interface (sandbox + create + start), p50/p99 over 50 starts
# each, alternating, and the ratios. Prints `figure: NAME VALUE UNIT` lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
go run ./bench/runtime "$@"
# Pod startup through the node agent (pod created in the store -> Running,
# status written) vs the floor (the same container through libcontainer,
# plus one CNI ADD when $COXSWAIN_CNI_BIN_DIR names the plugins, as make
# exports it).
go run ./bench/runtime/podstartup "$@"
