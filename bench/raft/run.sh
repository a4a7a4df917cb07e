#!/usr/bin/env bash
# make bench-raft: the Raft store (store/raftstore) side by side with etcd in
# one run, on the same disk: 3 members with 1,000 concurrent clients writing
# 256-byte values and 1 client writing sequentially; the same for 1 member.
# etcd runs in-process through embed.StartEtcd from the separate Go module
# in bench/raft/etcd (the main module does not require etcd).
#
# The disk is shared with whatever else runs on the machine, so each
# scenario runs ROUNDS times, etcd and the Raft store alternating, and the
# median of each figure is reported. Prints `figure: NAME VALUE UNIT` lines,
# then the ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
MANY=${MANY:-1000}
MANY_DURATION=${MANY_DURATION:-4s}
ONE_DURATION=${ONE_DURATION:-3s}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/bench-raft.XXXXXX")
trap 'rm -rf "$work"' EXIT

go build -o "$work/raft-bench" ./bench/raft
(cd bench/raft/etcd && go build -o "$work/etcd-bench" .)

raw="$work/raw"
: >"$raw"
for members in 3 1; do
  for clients in "$MANY" 1; do
    duration=$ONE_DURATION
    [ "$clients" = 1 ] || duration=$MANY_DURATION
    for round in $(seq "$ROUNDS"); do
      for side in etcd raft; do
        rm -rf "$work/data" && mkdir -p "$work/data"
        "$work/$side-bench" -members "$members" -clients "$clients" -duration "$duration" -dir "$work/data" 2>/dev/null >>"$raw"
      done
    done
  done
done
rm -rf "$work/data"

# Median of each figure over the rounds, then the ratios: throughput
# (raft / etcd, higher is better) and p99 latency (raft / etcd, lower is
# better) for every scenario both sides ran.
awk '
  $1 == "figure:" { n[$2]++; v[$2, n[$2]] = $3; unit[$2] = $4 }
  END {
    for (k in n) {
      m = n[k]
      for (i = 1; i <= m; i++) a[i] = v[k, i]
      for (i = 2; i <= m; i++) { x = a[i]; j = i - 1; while (j > 0 && a[j] > x) { a[j+1] = a[j]; j-- } a[j+1] = x }
      med[k] = (m % 2) ? a[(m+1)/2] : (a[m/2] + a[m/2+1]) / 2
      printf "figure: %s %g %s\n", k, med[k], unit[k]
    }
    for (k in med) {
      if (k !~ /^raft[0-9]+_[0-9]+c_writes_per_s$/) continue
      split(k, p, "_"); base = p[1] "_" p[2]; e = base; sub(/^raft/, "etcd", e)
      if ((e "_writes_per_s") in med && med[e "_writes_per_s"] > 0)
        printf "figure: %s_vs_etcd %.2f x\n", base, med[k] / med[e "_writes_per_s"]
      if ((e "_p99") in med && med[e "_p99"] > 0)
        printf "figure: %s_p99_vs_etcd %.2f x\n", base, med[base "_p99"] / med[e "_p99"]
    }
  }' "$raw" | sort
