#!/usr/bin/env bash
# Service proxy benchmarks (needs root): full sync of 1,000 and 10,000
# services of 2 endpoints each, and Endpoints-change-to-rule latency with
# 10,000 services programmed. Prints `figure: NAME VALUE UNIT` lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
go run ./bench/network "$@"
