#!/usr/bin/env bash
# Measures a read after a write on one connection (raftsql bench -w rw: an
# INSERT, then a SELECT of the row it inserted) on the leader and on a
# follower of a 3-node cluster of raftsqld processes, at consistency
# linearizable and none, and how many of the follower's SELECTs missed the
# row. Prints one line per point; docs/BENCHMARKS.md records them.
#
#   docs/reads-bench.sh [seconds-per-point]      (default 10)
#
# RAFTSQLD=path runs that raftsqld binary instead (an older build, for a
# before-and-after comparison in the same run).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
# shellcheck source=docs/cluster.sh
. docs/cluster.sh
[ -n "${RAFTSQLD:-}" ] && cp "$RAFTSQLD" "$work/raftsqld"
start_cluster
# The leader's index in PG and HTTP (it may have moved since the start).
leader_index() { "$work/raftsql" status --addr "${HTTP[0]}" | awk '/^leader n/ { print substr($2, 2) - 1 }'; }
li=$(leader_index)
leader="127.0.0.1:${PG[$li]}" follower="127.0.0.1:${PG[$(((li + 1) % 3))]}"
for level in linearizable none; do
	for where in leader follower; do
		addr=$leader
		[ "$where" = follower ] && addr=$follower
		printf '%s %s: ' "$where" "$level"
		"$work/raftsql" bench --addr "$addr" -w rw -c 1 -d "${secs}s" --table "rw_${where}_$level" \
			--read-consistency "$level" 2>/dev/null | tail -1
	done
done
