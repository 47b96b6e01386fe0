#!/usr/bin/env bash
# Measures the p99 write latency of `raftsql bench` (16 clients, single-row
# INSERTs) on a 3-node cluster of raftsqld processes on 127.0.0.1 holding a
# large database, without a snapshot and while the leader takes snapshots
# back to back (`raftsql snapshot` in a loop for the whole run), in the same
# run, REPS times alternating (default 3), and prints the ratio of the
# median p99s. Usage: [REPS=3] [SECS=10] docs/snapshot-p99-bench.sh [MiB]
# (default 256; the database is INSERTs of randomblob(16 MiB)). RAFTSQLD_ARGS
# adds flags to every raftsqld (e.g. "--snapshot-rate 0" for unpaced copies).
set -euo pipefail
cd "$(dirname "$0")/.."

MIB=${1:-256}
REPS=${REPS:-3}
SECS=${SECS:-10}
# Automatic snapshots are pushed out of the way: only the ones this script
# asks for run.
NODE_ARGS="--snapshot-threshold 100000000 --snapshot-interval 1h ${RAFTSQLD_ARGS:-}"
. docs/cluster.sh
start_cluster
load_blobs "$MIB"

leader=$("$work/raftsql" status --addr "${HTTP[0]}" | awk '$2 == "leader" { print substr($1, 2) - 1 }')
"$work/raftsql" snapshot --addr "${HTTP[$leader]}" >/dev/null
size=$(stat -c %s "$work/n$leader/db/raftsql.db")

# p99 of one bench line, in milliseconds.
p99ms() {
	sed -n 's/.* p99=\([^ ]*\) .*/\1/p' | awk '{
		v = $1
		if (v ~ /µs$/) { sub(/µs$/, "", v); print v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
		else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
	}'
}
bench() { # bench TABLE
	"$work/raftsql" bench --addr "127.0.0.1:${PG[$leader]}" --clients 16 --duration "${SECS}s" \
		--workload insert --table "$1"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
plain=() snap=() lines=()
for rep in $(seq 1 "$REPS"); do
	line=$(bench "plain$rep")
	lines+=("without: $line")
	plain+=("$(echo "$line" | p99ms)")

	bench "snap$rep" >"$work/bench.out" &
	bp=$!
	n=0
	while kill -0 "$bp" 2>/dev/null; do
		if "$work/raftsql" snapshot --addr "${HTTP[$leader]}" >>"$work/snap.out" 2>&1; then n=$((n + 1)); fi
	done
	wait "$bp"
	line=$(cat "$work/bench.out")
	lines+=("with $n snapshots: $line")
	snap+=("$(echo "$line" | p99ms)")
done
p=$(printf '%s\n' "${plain[@]}" | median)
s=$(printf '%s\n' "${snap[@]}" | median)
printf 'database: %d MiB (%d bytes); leader n%d; %d s per run\n' $((size >> 20)) "$size" $((leader + 1)) "$SECS"
printf '%s\n' "${lines[@]}"
printf 'p99 without a snapshot: %s ms (median of %s)\n' "$p" "${plain[*]}"
printf 'p99 while the leader snapshots: %s ms (median of %s)\n' "$s" "${snap[*]}"
printf 'ratio: %.2fx\n' "$(echo "$s / $p" | bc -l)"
