#!/usr/bin/env bash
# Measures, end to end, what the statement front end (pgwire/pgsql) costs:
# this tree against BASE, by default the last commit before pgwire/pgsql
# came in (the parent of the commit that added pgwire/pgsql/parse.go). Both
# are built the same way and run as two 3-node clusters of raftsqld
# processes on 127.0.0.1, up at once; on each cluster's leader, runs
# alternate between the two builds:
#
#   - pgbench select-only (-S, scale 1, 8 clients, -M simple and -M extended)
#   - raftsql bench -w insert -c 16 (this tree's CLI against both)
#
# REPS rounds (default 3). Prints one line per run, then the medians and the
# ratio new/old per workload; docs/BENCHMARKS.md, "Statement front end",
# records them.
#
#   docs/frontend-e2e-bench.sh [pgbench-seconds] [insert-seconds]   (default 10 8)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
isecs=${2:-8}
reps=${REPS:-3}
base=${BASE:-$(git log --diff-filter=A --format=%H -- pgwire/pgsql/parse.go | tail -1)^}
work=$(mktemp -d /var/tmp/raftsql-fe-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/new" "$work/old" "$work/src"
go build -o "$work/new/" ./cmd/raftsqld ./cmd/raftsql
git archive "$base" | tar -x -C "$work/src"
(cd "$work/src" && go build -o "$work/old/" ./cmd/raftsqld)
echo "old: $(git rev-parse --short "$base") new: $(git rev-parse --short HEAD)$(git diff --quiet || echo +changes)"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
declare -A LEADER
start_cluster() { # start_cluster VERSION: its raftsqld, its leader's PG port in LEADER
	local v=$1 raft0 admin0
	local -a raft pg http
	for i in 0 1 2; do raft[$i]=127.0.0.1:$(port); pg[$i]=$(port); http[$i]=127.0.0.1:$(port); done
	raft0=${raft[0]} admin0=${http[0]}
	for i in 0 1 2; do
		local extra=(--join "$raft0")
		[ "$i" = 0 ] && extra=(--bootstrap)
		"$work/$v/raftsqld" --id "n$((i + 1))" --data-dir "$work/$v-n$i" --raft-addr "${raft[$i]}" \
			--pg-addr "127.0.0.1:${pg[$i]}" --http-addr "${http[$i]}" --log-level warn "${extra[@]}" \
			>"$work/$v-n$i.log" 2>&1 &
		pids+=($!)
		if [ "$i" = 0 ]; then
			for _ in $(seq 1 300); do "$work/new/raftsql" status --addr "$admin0" >/dev/null 2>&1 && break; sleep 0.2; done
		fi
	done
	for _ in $(seq 1 300); do
		[ "$("$work/new/raftsql" status --addr "$admin0" 2>/dev/null | grep -c '^n[123] ')" = 3 ] && break
		sleep 0.2
	done
	local li try
	# A loaded machine may move the leadership while the cluster settles:
	# the load is tried again, on the leader of the moment.
	for try in 1 2 3; do
		li=$("$work/new/raftsql" status --addr "$admin0" | awk '/^leader n/ { print substr($2, 2) - 1 }')
		LEADER[$v]=${pg[$li]}
		timeout 300 pgbench -h 127.0.0.1 -p "${LEADER[$v]}" -U raftsql -i -I dtgp -s 1 raftsql >"$work/$v-init.log" 2>&1 && return 0
		echo "$v: pgbench -i failed (try $try):" >&2
		tail -3 "$work/$v-init.log" >&2
	done
	tail -20 "$work/$v-n"*.log >&2
	exit 1
}
start_cluster old
start_cluster new

tps() { grep -o 'tps = [0-9.]*' | head -1 | cut -d' ' -f3; }
results=$work/results
for r in $(seq 1 "$reps"); do
	for w in simple extended insert; do
		for v in old new; do
			if [ "$w" = insert ]; then
				out=$(timeout $((isecs + 60)) "$work/new/raftsql" bench --addr "127.0.0.1:${LEADER[$v]}" -w insert -c 16 -d "${isecs}s" 2>&1 | tail -1)
				val=$(echo "$out" | grep -o 'ops/s=[0-9.]*' | cut -d= -f2)
			else
				out=$(timeout $((secs + 60)) pgbench -h 127.0.0.1 -p "${LEADER[$v]}" -U raftsql -n -S -M "$w" -c 8 -j 2 -T "$secs" raftsql 2>&1)
				val=$(echo "$out" | tps)
			fi
			echo "round=$r workload=$w version=$v value=${val:-?}"
			echo "$w $v ${val:-0}" >>"$results"
		done
	done
done
echo "medians (pgbench: tps; insert: ops/s):"
for w in simple extended insert; do
	med() { awk -v w="$w" -v v="$1" '$1 == w && $2 == v { print $3 }' "$results" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
	o=$(med old) n=$(med new)
	awk -v w="$w" -v o="$o" -v n="$n" 'BEGIN { printf "%-8s old=%s new=%s new/old=%.2f\n", w, o, n, (o > 0 ? n / o : 0) }'
done
