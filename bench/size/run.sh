#!/usr/bin/env bash
# Binary size of the customcontroller example (a custom kind and its
# controller, run against a remote coxd): a plain `go build`, and one with
# the symbol table and DWARF stripped (-ldflags="-s -w"), as release
# builds usually are. Also coxd and coxctl for reference.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1000000 }'; }
go build -o "$out/cc" ./examples/customcontroller
go build -ldflags="-s -w" -o "$out/cc-stripped" ./examples/customcontroller
go build -o "$out/coxctl" ./cmd/coxctl
go build -o "$out/coxd" ./cmd/coxd
echo "figure: customcontroller_binary_size $(mb "$out/cc") MB"
echo "figure: customcontroller_binary_size_stripped $(mb "$out/cc-stripped") MB"
echo "figure: coxctl_binary_size $(mb "$out/coxctl") MB"
echo "figure: coxd_binary_size $(mb "$out/coxd") MB"
# Whether the linker could drop unused methods: one reachable reflective
# method call (reflect's Method, or MethodByName with a non-constant name)
# makes it keep every exported method of every reachable type.
n=$(go build -ldflags=-dumpdep -o "$out/cc-dumpdep" ./examples/customcontroller 2>&1 | grep -c '<ReflectMethod>' || true)
if [ "$n" = 0 ]; then
	echo "# customcontroller: method dead-code elimination on"
else
	echo "# customcontroller: method dead-code elimination OFF ($n <ReflectMethod> symbols; go build -ldflags=-dumpdep shows why)"
fi
# Where the controller's code comes from: symbol bytes per package (not
# figures; runtime and type data left out), to see what to cut next.
echo "# customcontroller: largest packages by symbol size (bytes)"
go tool nm -size "$out/cc" | awk '$3 ~ /^[Tt]$/ || $3 == "R" {
	n = $4; if (n ~ /^(go:|type:|runtime\.)/) next
	sub(/\.[^\/]*$/, "", n); s[n] += $2
} END { for (k in s) print s[k], k }' | sort -rn | awk 'NR <= 15 { print "#   " $0 }'
