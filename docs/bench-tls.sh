#!/usr/bin/env bash
# Measures what node-to-node TLS costs: two 3-node clusters of raftsqld
# processes on 127.0.0.1, the same in every way except that one runs with
# --raft-tls-cert/--raft-tls-key/--raft-tls-ca (certificates made by
# raftsql cert), driven alternately with single-row INSERTs from clients on
# the leader, the medians compared.
#
#   docs/bench-tls.sh [seconds-per-run]      (default 10; REPS=3 runs each, CLIENTS="16")
#
# Prints a Markdown table; docs/BENCHMARKS.md records its output.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
reps=${REPS:-3}
clients=${CLIENTS:-16}
work=$(mktemp -d /var/tmp/raftsql-bench-tls.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/raftsqld" ./cmd/raftsqld
go build -o "$work/raftsql" ./cmd/raftsql

"$work/raftsql" cert ca --out "$work/tls" >/dev/null
for id in t1 t2 t3; do
	"$work/raftsql" cert node --ca "$work/tls" --id "$id" --host 127.0.0.1 --out "$work/tls" >/dev/null
done

start_node() { # id raft pg http extra...
	local id=$1 raft=$2 pg=$3 http=$4
	shift 4
	"$work/raftsqld" --id "$id" --data-dir "$work/$id" --raft-addr "127.0.0.1:$raft" \
		--pg-addr "127.0.0.1:$pg" --http-addr "127.0.0.1:$http" --log-level error "$@" \
		>"$work/$id.log" 2>&1 &
	pids+=($!)
}
tls() { echo --raft-tls-cert "$work/tls/$1.crt" --raft-tls-key "$work/tls/$1.key" --raft-tls-ca "$work/tls/ca.crt"; }
# Plain: raft 17433-17435, pg 15433-15435, http 18433-18435.
start_node p1 17433 15433 18433 --bootstrap
start_node p2 17434 15434 18434 --join 127.0.0.1:17433
start_node p3 17435 15435 18435 --join 127.0.0.1:17433
# TLS: raft 17443-17445, pg 15443-15445, http 18443-18445.
# shellcheck disable=SC2046
start_node t1 17443 15443 18443 --bootstrap $(tls t1)
# shellcheck disable=SC2046
start_node t2 17444 15444 18444 --join 127.0.0.1:17443 $(tls t2)
# shellcheck disable=SC2046
start_node t3 17445 15445 18445 --join 127.0.0.1:17443 $(tls t3)

leader_pg() { # http port of a member -> pg address of the leader, once all 3 are in and one leads
	local l=""
	for _ in $(seq 1 300); do
		if [ "$("$work/raftsql" status --addr "127.0.0.1:$1" 2>/dev/null | grep -cE "^[^ ]+ +(follower|leader) ")" = 3 ]; then
			l=$("$work/raftsql" status --addr "127.0.0.1:$1" --json | sed -n 's/.*"leader_addr": "127.0.0.1:174\([0-9][0-9]\)".*/\1/p' | head -1)
			[ -n "$l" ] && break
		fi
		sleep 0.2
	done
	"$work/raftsql" status --addr "127.0.0.1:$1" >&2
	[ -n "$l" ] || { echo "no leader on the cluster of http port $1" >&2; exit 1; }
	echo "127.0.0.1:154${l}"
}
plain=$(leader_pg 18433)
secure=$(leader_pg 18443)

# CPU time (user+system, clock ticks) of the processes given, to report CPU
# per write: unlike throughput it hardly moves when other work shares the
# machine.
ticks() { for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done | awk '{ s += $1 } END { print s }'; }
hz=$(getconf CLK_TCK)
# run_cluster ADDR PIDS...: one bench run; prints "ops/s cpu-µs-per-op"
run_cluster() {
	local addr=$1 out t0 t1 n
	shift
	t0=$(ticks "$@")
	out=$(bench --addr "$addr" -w insert -c "$c")
	t1=$(ticks "$@")
	n=$(echo "$out" | sed -n 's/.* ops=\([0-9]*\) .*/\1/p')
	echo "$(echo "$out" | ops) $(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }')"
}
ops() { sed -n 's/.*ops\/s=\([0-9]*\).*/\1/p'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
bench() {
	if ! "$work/raftsql" bench "$@" -d "${secs}s" 2>"$work/bench.err"; then
		echo "raftsql bench $*: failed" >&2
		tr '\r' '\n' <"$work/bench.err" | tail -5 >&2
		return 1
	fi
}

echo "Writes: single-row INSERT, clients on the leader; median of $reps alternating runs of ${secs}s"
echo
echo "| clients | without TLS ops/s | with TLS ops/s | TLS / without | CPU µs/write without | CPU µs/write with | runs without (ops/s) | runs with (ops/s) |"
echo "|---|---|---|---|---|---|---|---|"
for c in $clients; do
	ps=""; ts=""; pc=""; tc=""
	for _ in $(seq "$reps"); do
		plain=$(leader_pg 18433 2>/dev/null); secure=$(leader_pg 18443 2>/dev/null)
		read -r o u <<<"$(run_cluster "$plain" "${pids[@]:0:3}")"
		ps="$ps $o"; pc="$pc $u"
		read -r o u <<<"$(run_cluster "$secure" "${pids[@]:3:3}")"
		ts="$ts $o"; tc="$tc $u"
	done
	po=$(echo "$ps" | median); to=$(echo "$ts" | median)
	echo "| $c | $po | $to | $(ratio "$to" "$po") | $(echo "$pc" | median) | $(echo "$tc" | median) |$ps |$ts |"
done
