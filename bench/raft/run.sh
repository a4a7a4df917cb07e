#!/usr/bin/env bash
# make bench-raft: the Raft store (store/raftstore) side by side with etcd in
# one run, on the same disk: 3 members with 1,000 concurrent clients writing
# 256-byte values and 1 client writing sequentially; the same for 1 member.
# etcd runs in-process through embed.StartEtcd from the separate Go module
# in bench/raft/etcd (the main module does not require etcd).
# Prints `figure: NAME VALUE UNIT` lines, then the ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-5s}
CLIENTS=${CLIENTS:-1000,1}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/bench-raft.XXXXXX")
trap 'rm -rf "$work"' EXIT

go build -o "$work/raft-bench" ./bench/raft
(cd bench/raft/etcd && go build -o "$work/etcd-bench" .)

out="$work/figures"
: >"$out"
for members in 3 1; do
  mkdir -p "$work/etcd$members" "$work/raft$members"
  "$work/etcd-bench" -members "$members" -clients "$CLIENTS" -duration "$DURATION" -dir "$work/etcd$members" 2>/dev/null | tee -a "$out"
  "$work/raft-bench" -members "$members" -clients "$CLIENTS" -duration "$DURATION" -dir "$work/raft$members" | tee -a "$out"
  rm -rf "$work/etcd$members" "$work/raft$members"
done

# Ratios: throughput (raft / etcd, higher is better) and p99 latency
# (raft / etcd, lower is better) for every scenario both sides ran.
awk '
  $1 == "figure:" { v[$2] = $3 }
  END {
    for (k in v) {
      if (k !~ /^raft[0-9]+_[0-9]+c_writes_per_s$/) continue
      split(k, p, "_"); base = p[1] "_" p[2]; e = base; sub(/^raft/, "etcd", e)
      if ((e "_writes_per_s") in v && v[e "_writes_per_s"] > 0)
        printf "figure: %s_vs_etcd %.2f x\n", base, v[k] / v[e "_writes_per_s"]
      if ((e "_p99") in v && v[e "_p99"] > 0)
        printf "figure: %s_p99_vs_etcd %.2f x\n", base, v[base "_p99"] / v[e "_p99"]
    }
  }' "$out" | sort
