#!/usr/bin/env bash
# Builds the CNI plugins Coxswain uses (bridge, loopback, host-local, portmap)
# from the containernetworking/plugins module version pinned in go.mod, into
# the directory given (idempotent: skipped when that version is already
# built there).
#
# The plugins are built in a throwaway module that requires only the plugins
# module at the pinned version, so their own dependencies (knftables,
# go-nft, ethtool, ...) never enter Coxswain's go.mod.
set -euo pipefail
dir=${1:?usage: build-cni-plugins.sh DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
version=$(cd "$root" && go list -m -f '{{.Version}}' github.com/containernetworking/plugins)
stamp="$dir/.version"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ] && [ -x "$dir/bridge" ] && [ -x "$dir/host-local" ] && [ -x "$dir/loopback" ] && [ -x "$dir/portmap" ]; then
  exit 0
fi
echo "building CNI plugins $version into $dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > go.mod <<MOD
module coxswain.local/cniplugins

go 1.26

require github.com/containernetworking/plugins $version
MOD
GOFLAGS=-mod=mod CGO_ENABLED=0 go build -o "$dir" \
  github.com/containernetworking/plugins/plugins/main/bridge \
  github.com/containernetworking/plugins/plugins/main/loopback \
  github.com/containernetworking/plugins/plugins/ipam/host-local \
  github.com/containernetworking/plugins/plugins/meta/portmap
echo "$version" > "$stamp"
