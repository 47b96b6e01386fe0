#!/usr/bin/env bash
# Times backup and restore of a large database on two 3-node clusters of
# raftsqld processes on 127.0.0.1, one built from BASE (a git revision,
# default main) and one from the work tree, against cp + sync of the same
# file, interleaved in one run: each repetition times cp + sync, then a
# backup and a restore on each cluster (the order of the clusters
# alternates). A restore is timed until every node of its cluster has
# applied it. Prints every time, the medians and their ratios to cp, and
# the peak RSS (VmHWM) of the work tree's nodes during their last restore.
# Usage: [BASE=main] [REPS=3] [PORT_BASE=16000] docs/restore-ab-bench.sh [MiB]
# (default 256; blobs of 64 MiB)
set -euo pipefail
cd "$(dirname "$0")/.."

MIB=${1:-256}
REPS=${REPS:-3}
BASE=${BASE:-main}
PORT_BASE=${PORT_BASE:-16000}
BLOB=$((64 << 20))
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	git worktree remove --force "$work/src" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

git worktree add --detach -q "$work/src" "$BASE"
(cd "$work/src" && go build -o "$work/base/raftsqld" ./cmd/raftsqld)
go build -o "$work/new/raftsqld" ./cmd/raftsqld
go build -o "$work/raftsql" ./cmd/raftsql

# Cluster c (base or new) node i: raft, pg and http ports from PORT_BASE.
raft_addr() { echo "127.0.0.1:$((PORT_BASE + $2 * 10 + $1 * 3))"; }
pg_port() { echo "$((PORT_BASE + $2 * 10 + $1 * 3 + 1))"; }
http_addr() { echo "127.0.0.1:$((PORT_BASE + $2 * 10 + $1 * 3 + 2))"; }
declare -A PID
start() { # start i c flags...
	local i=$1 c=$2 k; shift 2
	k=$([ "$c" = base ] && echo 0 || echo 1)
	"$work/$c/raftsqld" --id "n$((i + 1))" --data-dir "$work/$c-n$i" --raft-addr "$(raft_addr "$i" "$k")" \
		--pg-addr "127.0.0.1:$(pg_port "$i" "$k")" --http-addr "$(http_addr "$i" "$k")" --log-level info \
		--max-value-size 100000000 "$@" >"$work/$c-n$i.log" 2>&1 &
	pids+=($!)
	PID[$c$i]=$!
}
wait_until() {
	local what=$1; shift
	for _ in $(seq 1 1500); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "timed out waiting for $what" >&2
	exit 1
}
addrs() { local k; k=$([ "$1" = base ] && echo 0 || echo 1); echo "$(http_addr 0 "$k"),$(http_addr 1 "$k"),$(http_addr 2 "$k")"; }
synced() { # every member of cluster $1 reachable and at lag 0
	local out
	out=$("$work/raftsql" status --addr "$(addrs "$1")") || return 1
	[ "$(echo "$out" | grep -c '^n[123] ')" = 3 ] || return 1
	! echo "$out" | awk '/^n[123] / && $7 != 0 { bad = 1 } END { exit !bad }'
}
for c in base new; do
	k=$([ "$c" = base ] && echo 0 || echo 1)
	start 0 "$c" --bootstrap
	wait_until "the first node" "$work/raftsql" status --addr "$(http_addr 0 "$k")"
	start 1 "$c" --join "$(raft_addr 0 "$k")"
	start 2 "$c" --join "$(raft_addr 0 "$k")"
	wait_until "three members" synced "$c"
	psql_() { PGCONNECT_TIMEOUT=10 psql -h 127.0.0.1 -p "$(pg_port 0 "$k")" -U raftsql -d raftsql -X -q -v ON_ERROR_STOP=1 "$@"; }
	psql_ -c "CREATE TABLE b (id INTEGER PRIMARY KEY, v BLOB)"
	for _ in $(seq 1 $((MIB * (1 << 20) / BLOB))); do
		psql_ -c "INSERT INTO b (v) VALUES (randomblob($BLOB))"
	done
	wait_until "replication" synced "$c"
	"$work/raftsql" snapshot --addr "$(http_addr 0 "$k")" >/dev/null
	"$work/raftsql" backup --quiet --addr "$(addrs "$c")" -o "$work/$c.db" >/dev/null
done

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
reset_rss() { for i in 0 1 2; do echo 5 >"/proc/${PID[$1$i]}/clear_refs"; done; }
peak() { for i in 0 1 2; do awk '/VmHWM/ { printf "%d ", $2 / 1024 }' "/proc/${PID[$1$i]}/status"; done; }
idle() { for i in 0 1 2; do awk '/VmRSS/ { printf "%d ", $2 / 1024 }' "/proc/${PID[$1$i]}/status"; done; }
declare -A T
idle_new=$(idle new)
size=$(stat -c %s "$work/new.db")
for rep in $(seq 1 "$REPS"); do
	sync
	t0=$(now); cp "$work/new.db" "$work/cp.db"; sync "$work/cp.db"; t1=$(now)
	T[cp]+="$(echo "$t1 - $t0" | bc -l) "
	rm "$work/cp.db"
	order="base new"
	[ $((rep % 2)) = 0 ] && order="new base"
	for c in $order; do
		sync
		t0=$(now)
		"$work/raftsql" backup --quiet --addr "$(addrs "$c")" -o "$work/$c-backup.db" >/dev/null
		t1=$(now)
		T[$c-backup]+="$(echo "$t1 - $t0" | bc -l) "
		rm "$work/$c-backup.db"
		sync
		reset_rss "$c"
		t0=$(now)
		"$work/raftsql" restore --quiet --addr "$(addrs "$c")" "$work/$c.db" >"$work/$c-restore.out"
		wait_until "every node to apply the restore" synced "$c"
		t1=$(now)
		T[$c-restore]+="$(echo "$t1 - $t0" | bc -l) "
		[ "$c" = new ] && peak_new=$(peak new)
	done
done
cp_s=$(printf '%s\n' ${T[cp]} | median)
printf 'file: %d MiB; base %s (%s)\n' $((size >> 20)) "$BASE" "$(git rev-parse --short "$BASE")"
printf '%-14s %-30s %8s %6s\n' what runs median "/ cp"
for k in cp base-backup new-backup base-restore new-restore; do
	m=$(printf '%s\n' ${T[$k]} | median)
	printf '%-14s %-30s %7.2fs %6.2f\n' "$k" "$(printf '%.2f ' ${T[$k]})" "$m" "$(echo "$m / $cp_s" | bc -l)"
done
printf 'RSS of the new nodes (MiB, n1 n2 n3): idle %s; peak during the last restore %s\n' "$idle_new" "$peak_new"
grep -h 'restored the cluster.s data\|copied a restore' "$work"/new-n*.log | tail -6 | sed 's/^/new: /' || true
grep -h 'restored the cluster.s data\|copied a restore' "$work"/base-n*.log | tail -6 | sed 's/^/base: /' || true
