#!/usr/bin/env bash
# Regenerates every *.pb.go into a temp tree and fails if the committed files differ.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash hack/protoc.sh "$tmp"
fail=0
while read -r f; do
  if ! cmp -s "$tmp/$f" "$f"; then
    echo "$f is stale or has no .proto: run make generate" >&2
    fail=1
  fi
done < <(git ls-files '*.pb.go'; (cd "$tmp" && find . -name '*.pb.go' | sed 's|^\./||'))
exit $fail
