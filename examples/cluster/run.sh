#!/usr/bin/env bash
# The cluster example: builds coxd and coxctl, then runs three members and
# three nodes, each node in a network namespace of its own, kills the leader
# and a node, and watches the cluster heal. Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
	echo "the demo runs real containers and needs root: sudo $0" >&2
	exit 1
fi
if [ ! -x /bin/busybox ]; then
	echo "the demo's image is built from /bin/busybox: apt-get install busybox-static (make setup does)" >&2
	exit 1
fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
echo "==> Building coxd and coxctl"
go build -o "$bin/coxd" ./cmd/coxd
go build -o "$bin/coxctl" ./cmd/coxctl
cni=${COXSWAIN_CNI_BIN_DIR:-$PWD/.tools/cni/bin}
exec_args=(-coxd "$bin/coxd" -coxctl "$bin/coxctl" -cni-bin-dir "$cni" "$@")
go run ./examples/cluster "${exec_args[@]}"
