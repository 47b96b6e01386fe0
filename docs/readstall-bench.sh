#!/usr/bin/env bash
# Compares two raftsqld builds on a 3-node cluster of raftsqld processes on
# 127.0.0.1, alternating them on a fresh cluster each run: single-row INSERT
# throughput at 16 clients on the leader, and the latency of point SELECTs
# (1 client, consistency none) on a follower while another client writes
# 16 MiB blobs through the leader, so that the follower is committing and
# checkpointing large entries while it serves the reads.
#
#   BASE=path/to/old/raftsqld docs/readstall-bench.sh [seconds-per-point]   (default 10)
#
# REPS sets the number of runs of each build (default 4); the order of the
# two builds alternates from one run to the next. READS=0 measures the
# INSERTs only. Prints one line per run; docs/BENCHMARKS.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
reps=${REPS:-4}
: "${BASE:?BASE must name the raftsqld build to compare with}"
# shellcheck source=docs/cluster.sh
. docs/cluster.sh
cp "$work/raftsqld" "$work/raftsqld.new"
# Every member reachable and at lag 0, read from the member rows only.
synced() {
	local out
	out=$("$work/raftsql" status --addr "${HTTP[0]}") || return 1
	[ "$(echo "$out" | grep -c '^n[123] ')" = 3 ] || return 1
	! echo "$out" | awk '/^n[123] / && $7 != 0 { bad = 1 } END { exit !bad }'
}
cp "$BASE" "$work/raftsqld.base"

stop_cluster() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
	rm -rf "$work"/n[012]
}
leader_index() { "$work/raftsql" status --addr "${HTTP[0]}" | awk '/^leader n/ { print substr($2, 2) - 1 }'; }
ops() { sed -n 's/.*ops\/s=\([0-9]*\).*/\1/p'; }
lat() { sed -n 's/.*\(p50=[^ ]*\) \(p99=[^ ]*\) \(p999=[^ ]*\).*/\1 \2 \3/p'; }

for r in $(seq "$reps"); do
	order="base new"
	[ $((r % 2)) = 0 ] && order="new base" # so that a drift over the run favours neither
	for build in $order; do
		cp "$work/raftsqld.$build" "$work/raftsqld"
		start_cluster
		li=$(leader_index)
		leader="127.0.0.1:${PG[$li]}" follower="127.0.0.1:${PG[$(((li + 1) % 3))]}"
		ins=$("$work/raftsql" bench --addr "$leader" -w insert -c 16 -d "${secs}s" 2>/dev/null | tail -1 | ops)
		if [ "${READS:-1}" = 0 ]; then
			echo "run $r $build: insert c=16 ops/s=$ins"
			stop_cluster
			continue
		fi
		psql_ -c "CREATE TABLE big (id INTEGER PRIMARY KEY, v BLOB)"
		(
			while :; do
				if PGCONNECT_TIMEOUT=10 psql -h 127.0.0.1 -p "${PG[$li]}" -U raftsql -d raftsql -X -q \
					-c "DELETE FROM big; INSERT INTO big (v) VALUES (randomblob($BLOB))" >/dev/null 2>"$work/writer.err"; then
					echo >>"$work/writes"
				fi
			done
		) &
		writer=$!
		sel=$("$work/raftsql" bench --addr "$follower" -w select -c 1 -d "${secs}s" --rows 1000 \
			--read-consistency none 2>/dev/null | tail -1)
		kill "$writer" 2>/dev/null || true
		wait "$writer" 2>/dev/null || true
		writes=$(wc -l <"$work/writes" 2>/dev/null || echo 0)
		rm -f "$work/writes"
		echo "run $r $build: insert c=16 ops/s=$ins | follower select during $writes writes of 16 MiB: ops/s=$(echo "$sel" | ops) $(echo "$sel" | lat)"
		stop_cluster
	done
done
