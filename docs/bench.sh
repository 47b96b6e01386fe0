#!/usr/bin/env bash
# Measures raftsql's write and read throughput on a 3-node cluster of
# raftsqld processes on 127.0.0.1, beside two baselines measured in the same
# run and on the same disk: the same statements on a bare SQLite file, and
# the consensus ceiling (3 Raft nodes with the same stores and settings and a
# no-op state machine, applying commands of the same size).
#
#   docs/bench.sh [seconds-per-point]      (default 10)
#
# SECTIONS chooses what runs (default "writes tx reads").
#
# Prints a Markdown table; docs/BENCHMARKS.md records its output.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
work=$(mktemp -d /var/tmp/raftsql-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/raftsqld" ./cmd/raftsqld
go build -o "$work/raftsql" ./cmd/raftsql

start_node() { # id raft pg http extra...
	local id=$1 raft=$2 pg=$3 http=$4
	shift 4
	"$work/raftsqld" --id "$id" --data-dir "$work/$id" --raft-addr "127.0.0.1:$raft" \
		--pg-addr "127.0.0.1:$pg" --http-addr "127.0.0.1:$http" --log-level error "$@" \
		>"$work/$id.log" 2>&1 &
	pids+=($!)
}
start_node n1 17433 15433 18433 --bootstrap
start_node n2 17434 15434 18434 --join 127.0.0.1:17433
start_node n3 17435 15435 18435 --join 127.0.0.1:17433
for _ in $(seq 1 300); do
	if "$work/raftsql" status --addr 127.0.0.1:18433 2>/dev/null | grep -c "follower\|leader" | grep -q 3; then
		break
	fi
	sleep 0.2
done
"$work/raftsql" status --addr 127.0.0.1:18433 >&2
leader=$("$work/raftsql" status --addr 127.0.0.1:18433 --json | sed -n 's/.*"leader_addr": "127.0.0.1:1743\([0-9]\)".*/\1/p' | head -1)
leader_pg="127.0.0.1:1543${leader:-3}"

ops() { sed -n 's/.*ops\/s=\([0-9]*\).*/\1/p'; }
lat() { sed -n 's/.*\(p50=[^ ]*\) \(p99=[^ ]*\) \(p999=[^ ]*\).*/\1 \2 \3/p'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
bench() {
	if ! "$work/raftsql" bench "$@" -d "${secs}s" 2>"$work/bench.err"; then
		echo "raftsql bench $*: failed" >&2
		tr '\r' '\n' <"$work/bench.err" | tail -5 >&2
		return 1
	fi
}
reps=${REPS:-3}
sections=" ${SECTIONS:-writes tx reads} "

# The disk's fsync latency drifts over minutes, so the ceiling and the
# cluster are measured alternately, $reps times each, and the medians
# compared.
if [[ $sections == *" writes "* ]]; then
echo "Writes: single-row INSERT, clients on the leader; median of $reps alternating runs of ${secs}s"
echo
echo "| clients | ceiling ops/s | raftsql ops/s | raftsql / ceiling | bare SQLite ops/s | raftsql / SQLite | raftsql latency (last run) |"
echo "|---|---|---|---|---|---|---|"
for c in 1 16 64; do
	cs=""; rs=""
	for r in $(seq "$reps"); do
		cs="$cs $(bench --target ceiling --data-dir "$work" -w insert -c "$c" | ops)"
		rm -rf "$work"/ceiling[0-9]*
		clus=$(bench --addr "$leader_pg" -w insert -c "$c")
		rs="$rs $(echo "$clus" | ops)"
	done
	so=$(bench --target sqlite --data-dir "$work" -w insert -c "$c" | ops)
	rm -f "$work"/bare.db*
	co=$(echo "$cs" | median); ro=$(echo "$rs" | median)
	echo "| $c | $co | $ro | $(ratio "$ro" "$co") | $so | $(ratio "$ro" "$so") | $(echo "$clus" | lat) |"
done

fi

if [[ $sections == *" tx "* ]]; then
echo
echo "Transactions: BEGIN, UPDATE, SELECT, UPDATE, INSERT, COMMIT, each its own round trip, clients on the leader"
echo
echo "| clients | bare SQLite tx/s | raftsql tx/s | raftsql / SQLite | raftsql latency |"
echo "|---|---|---|---|---|"
for c in 1 16; do
	so=$(bench --target sqlite --data-dir "$work" -w tx --rows 10000 -c "$c" | ops)
	rm -f "$work"/bare.db*
	clus=$(bench --addr "$leader_pg" -w tx --rows 10000 -c "$c")
	ro=$(echo "$clus" | ops)
	echo "| $c | $so | $ro | $(ratio "$ro" "$so") | $(echo "$clus" | lat) |"
done

fi

if [[ $sections == *" reads "* ]]; then
echo
echo "Reads: point SELECT by primary key, clients spread over the three nodes"
echo
echo "| clients | bare SQLite ops/s | raftsql linearizable ops/s | raftsql none ops/s | linearizable / SQLite |"
echo "|---|---|---|---|---|"
for c in 1 16 64; do
	so=$(bench --target sqlite --data-dir "$work" -w select -c "$c" | ops)
	rm -f "$work"/bare.db*
	lin=$(bench --addr 127.0.0.1:15433,127.0.0.1:15434,127.0.0.1:15435 -w select -c "$c" | ops)
	non=$(bench --read-consistency none --setup=false --addr 127.0.0.1:15433,127.0.0.1:15434,127.0.0.1:15435 -w select -c "$c" | ops)
	echo "| $c | $so | $lin | $non | $(ratio "$lin" "$so") |"
done
fi
