#!/usr/bin/env bash
# Volume benchmarks: atomic writer update and no-op resync, a pod's volume
# set-up + tear-down (configMap, secret on tmpfs, downwardAPI, emptyDir;
# needs root), a ConfigMap change reaching the pod's file, and sealing a
# 1 KiB Secret at rest. Prints `figure: NAME VALUE UNIT` lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
go test -run '^$' -bench . -benchtime "${BENCHTIME:-1s}" -count 1 ./bench/volume/ | go run ./hack/figures
