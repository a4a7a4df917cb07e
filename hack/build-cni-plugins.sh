#!/usr/bin/env bash
# Builds the CNI plugins Coxswain uses from the containernetworking/plugins
# module version pinned in go.mod, into the directory given (idempotent).
set -euo pipefail
dir=${1:?usage: build-cni-plugins.sh DIR}
mkdir -p "$dir"
version=$(go list -m -f '{{.Version}}' github.com/containernetworking/plugins)
stamp="$dir/.version"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ] && [ -x "$dir/bridge" ] && [ -x "$dir/host-local" ] && [ -x "$dir/loopback" ] && [ -x "$dir/portmap" ]; then
  exit 0
fi
echo "building CNI plugins $version into $dir"
CGO_ENABLED=0 go build -o "$dir" \
  github.com/containernetworking/plugins/plugins/main/bridge \
  github.com/containernetworking/plugins/plugins/main/loopback \
  github.com/containernetworking/plugins/plugins/ipam/host-local \
  github.com/containernetworking/plugins/plugins/meta/portmap
echo "$version" > "$stamp"
