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
BLOB=$((16 << 20))
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/raftsqld" ./cmd/raftsqld
go build -o "$work/raftsql" ./cmd/raftsql

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
declare -a RAFT PG HTTP
for i in 0 1 2; do RAFT[$i]=127.0.0.1:$(port); PG[$i]=$(port); HTTP[$i]=127.0.0.1:$(port); done
start() {
	local i=$1; shift
	# Automatic snapshots are pushed out of the way: only the ones this
	# script asks for run.
	"$work/raftsqld" --id "n$((i + 1))" --data-dir "$work/n$i" --raft-addr "${RAFT[$i]}" \
		--pg-addr "127.0.0.1:${PG[$i]}" --http-addr "${HTTP[$i]}" --log-level warn \
		--snapshot-threshold 100000000 --snapshot-interval 1h ${RAFTSQLD_ARGS:-} "$@" \
		>"$work/n$i.log" 2>&1 &
	pids+=($!)
}
start 0 --bootstrap
sleep 1
start 1 --join "${RAFT[0]}"
start 2 --join "${RAFT[0]}"

wait_until() { # wait_until DESCRIPTION COMMAND...
	local what=$1; shift
	for _ in $(seq 1 600); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	echo "timed out waiting for $what" >&2
	exit 1
}
synced() { # every member reachable and at lag 0
	local out
	out=$("$work/raftsql" status --addr "${HTTP[0]}") || return 1
	[ "$(echo "$out" | grep -c '^n[123] ')" = 3 ] || return 1
	! echo "$out" | awk 'NR > 3 && $7 != 0 { bad = 1 } END { exit !bad }'
}
wait_until "three members" synced

psql_() { PGCONNECT_TIMEOUT=10 psql -h 127.0.0.1 -p "${PG[0]}" -U raftsql -d raftsql -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_ -c "CREATE TABLE b (id INTEGER PRIMARY KEY, v BLOB)"
for _ in $(seq 1 $((MIB * (1 << 20) / BLOB))); do
	psql_ -c "INSERT INTO b (v) VALUES (randomblob($BLOB))"
done
wait_until "replication" synced

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
