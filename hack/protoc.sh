#!/usr/bin/env bash
# Generates Go code for every directory holding .proto files, into OUT_ROOT
# (default: the repository itself). Protos import each other by file name;
# the api directory is always on the include path.
set -euo pipefail
out_root=${1:-.}
dirs=$(git ls-files '*.proto' | xargs -r -n1 dirname | sort -u)
for d in $dirs; do
  mkdir -p "$out_root/$d"
  protoc -I api -I "$d" --go_out="$out_root/$d" --go_opt=paths=source_relative "$d"/*.proto
done
