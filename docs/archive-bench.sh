#!/usr/bin/env bash
# Measures what the continuous archive costs writes, and how fast a rebuild
# from it runs: two 3-node clusters of raftsqld processes on 127.0.0.1, the
# same in every way except that one runs with --archive-dir, driven
# alternately with single-row INSERTs from clients on each leader, the
# medians compared; then `raftsql restore --from-archive --to-index` rebuilds
# the archived cluster's database as of its last archived index, timed, and
# its rate of writes replayed is set beside the rate the cluster wrote them.
#
#   docs/archive-bench.sh [seconds-per-run]      (default 10; REPS=3 runs each, CLIENTS=16)
#
# Prints Markdown; docs/BENCHMARKS.md records its output.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
reps=${REPS:-3}
clients=${CLIENTS:-16}
work=$(mktemp -d /var/tmp/raftsql-bench-archive.XXXXXX)
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
arch="$work/archive"
# Without: raft 17453-17455, pg 15453-15455, http 18453-18455.
start_node p1 17453 15453 18453 --bootstrap
start_node p2 17454 15454 18454 --join 127.0.0.1:17453
start_node p3 17455 15455 18455 --join 127.0.0.1:17453
# With the archive (shared by its nodes): raft 17463-17465, pg 15463-15465, http 18463-18465.
start_node a1 17463 15463 18463 --bootstrap --archive-dir "$arch"
start_node a2 17464 15464 18464 --join 127.0.0.1:17463 --archive-dir "$arch"
start_node a3 17465 15465 18465 --join 127.0.0.1:17463 --archive-dir "$arch"

leader_pg() { # http port of a member -> pg address of the leader, once all 3 are in and one leads
	local l=""
	for _ in $(seq 1 300); do
		if [ "$("$work/raftsql" status --addr "127.0.0.1:$1" 2>/dev/null | grep -cE "^[^ ]+ +(follower|leader) ")" = 3 ]; then
			l=$("$work/raftsql" status --addr "127.0.0.1:$1" --json | sed -n 's/.*"leader_addr": "127.0.0.1:174\([0-9][0-9]\)".*/\1/p' | head -1)
			[ -n "$l" ] && break
		fi
		sleep 0.2
	done
	[ -n "$l" ] || { echo "no leader on the cluster of http port $1" >&2; exit 1; }
	echo "127.0.0.1:154${l}"
}
bench() {
	if ! "$work/raftsql" bench "$@" -w insert -c "$clients" -d "${secs}s" 2>"$work/bench.err"; then
		echo "raftsql bench $*: failed" >&2
		tr '\r' '\n' <"$work/bench.err" | tail -5 >&2
		return 1
	fi
}
# CPU time (user+system, clock ticks) of the processes given: per write it
# hardly moves when other work shares the machine, unlike throughput.
ticks() { for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done | awk '{ s += $1 } END { print s }'; }
hz=$(getconf CLK_TCK)
cpu_per_op() { awk -v d="$1" -v hz="$hz" -v n="$2" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }'; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
ms() { awk '{ v = $1; if (v ~ /µs$/) { sub(/µs$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f\n", v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

written=0 # writes the archived cluster acknowledged, all runs (each run drops and creates its table)
cpup=""; cpua=""; po=""; ao=""; p50p=""; p50a=""; p99p=""; p99a=""
for _ in $(seq "$reps"); do
	addr=$(leader_pg 18453); t0=$(ticks "${pids[@]:0:3}")
	out=$(bench --addr "$addr"); po="$po $(echo "$out" | field 'ops\/s')"
	cpup="$cpup $(cpu_per_op $(($(ticks "${pids[@]:0:3}") - t0)) "$(echo "$out" | field ops)")"
	p50p="$p50p $(echo "$out" | field p50 | ms)"; p99p="$p99p $(echo "$out" | field p99 | ms)"
	addr=$(leader_pg 18463); t0=$(ticks "${pids[@]:3:3}")
	out=$(bench --addr "$addr"); ao="$ao $(echo "$out" | field 'ops\/s')"
	cpua="$cpua $(cpu_per_op $(($(ticks "${pids[@]:3:3}") - t0)) "$(echo "$out" | field ops)")"
	written=$((written + $(echo "$out" | field ops)))
	p50a="$p50a $(echo "$out" | field p50 | ms)"; p99a="$p99a $(echo "$out" | field p99 | ms)"
done
echo "Writes: single-row INSERT, $clients clients on the leader; median of $reps alternating runs of ${secs}s"
echo
echo "| | ops/s | p50 ms | p99 ms | CPU µs/write (3 nodes) | runs (ops/s) |"
echo "|---|---|---|---|---|---|"
echo "| archive off | $(echo "$po" | median) | $(echo "$p50p" | median) | $(echo "$p99p" | median) | $(echo "$cpup" | median) |$po |"
echo "| archive on | $(echo "$ao" | median) | $(echo "$p50a" | median) | $(echo "$p99a" | median) | $(echo "$cpua" | median) |$ao |"
echo "| on / off | $(ratio "$(echo "$ao" | median)" "$(echo "$po" | median)") | $(ratio "$(echo "$p50a" | median)" "$(echo "$p50p" | median)") | $(ratio "$(echo "$p99a" | median)" "$(echo "$p99p" | median)") | $(ratio "$(echo "$cpua" | median)" "$(echo "$cpup" | median)") | |"
echo

# The archive holds everything once the leader has stored its last segment.
last=0
for _ in $(seq 1 100); do
	last=$(sed -n 's/.*"last_index": \([0-9]*\).*/\1/p' "$arch/manifest.json")
	applied=$("$work/raftsql" status --addr 127.0.0.1:18463 --json | sed -n 's/.*"applied_index": \([0-9]*\).*/\1/p' | sort -n | tail -1)
	[ "$last" -ge "$((applied - 2))" ] && break
	sleep 0.2
done
segs=$(find "$arch/seg" -name '*.seg' | wc -l)
segbytes=$(du -sb "$arch/seg" | cut -f1)
start=$(date +%s.%N)
out=$("$work/raftsql" restore --from-archive "$arch" --to-index "$last" -o "$work/rebuilt.db" --quiet)
rsecs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }')
entries=$(echo "$out" | sed -n 's/.* and \([0-9]*\) entries.*/\1/p')
rows=$(sqlite3 "$work/rebuilt.db" 'SELECT count(*) FROM bench')
[ "$rows" -gt 0 ] || { echo "the rebuilt database has no rows" >&2; exit 1; }
echo "Rebuild to index $last from the archive ($segs segments, $segbytes bytes; $(find "$arch/base" -name '*.db' | wc -l) bases):"
echo
echo "| | seconds | entries | entries/s | writes replayed | writes/s | writes/s / the cluster's ops/s |"
echo "|---|---|---|---|---|---|---|"
echo "| \`raftsql restore --from-archive --to-index $last -o\` | $rsecs | $entries | $(awk -v n="$entries" -v s="$rsecs" 'BEGIN { printf "%.0f", n / s }') | $written | $(awk -v n="$written" -v s="$rsecs" 'BEGIN { printf "%.0f", n / s }') | $(ratio "$(awk -v n="$written" -v s="$rsecs" 'BEGIN { printf "%.0f", n / s }')" "$(echo "$ao" | median)") |"
echo
echo "The rebuilt table holds the last run's $rows rows."
echo
echo "$out"
