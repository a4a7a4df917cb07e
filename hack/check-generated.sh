#!/usr/bin/env bash
# Regenerates api/*.pb.go into a temp dir and fails if the committed files differ.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protoc -I api --go_out="$tmp" --go_opt=paths=source_relative api/*.proto
fail=0
for f in "$tmp"/*.pb.go; do
  name=$(basename "$f")
  if ! cmp -s "$f" "api/$name"; then
    echo "api/$name is stale: run make generate" >&2
    fail=1
  fi
done
for f in api/*.pb.go; do
  [ -f "$tmp/$(basename "$f")" ] || { echo "$f has no .proto: remove it" >&2; fail=1; }
done
exit $fail
