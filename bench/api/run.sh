#!/usr/bin/env bash
# Object model benchmarks: decoding a Deployment manifest (YAML and JSON),
# encoding it, quantity parsing and arithmetic, defaulting + validation,
# and every other benchmark under api/ (selector matching in api/labels,
# field selectors in api/fields). Prints `figure: NAME VALUE UNIT` lines,
# each name prefixed with its package (api_manifest_decodedeployment_...)
# so figures from different packages never collide. BENCHTIME overrides
# -benchtime (default 1s).
set -euo pipefail
cd "$(dirname "$0")/../.."
go build -o /dev/null ./hack/figures
status=0
for pkg in $(go list ./api/...); do
	rel=${pkg#github.com/coxswain-io/coxswain/}
	prefix=$(echo "$rel" | tr '/.-' '___')
	go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-1s}" -count 1 "./$rel" |
		go run ./hack/figures | sed "s/^figure: /figure: ${prefix}_/" || status=1
done
exit $status
