#!/usr/bin/env bash
# Measures transactions: pgbench TPC-B (builtin tpcb-like, scale 10, 8
# clients, -M prepared) on a 3-node cluster of raftsqld processes on
# 127.0.0.1, on the leader and through a follower, beside a private
# PostgreSQL 15 instance on the same disk (default durability), runs
# interleaved; and `raftsql bench -w tx` at 1 and 16 clients, on this tree
# and on BASE (default main), built the same way; then pgbench select-only
# (8 clients, -M prepared, the default consistency) on the same clusters,
# SELECT_ROUNDS times (default rounds, 10 s each). It takes a CPU profile
# of the leader during one TPC-B run and one select-only run.
#
#   docs/tx-bench.sh [seconds-per-tpcb-run] [rounds]     (default 30 3)
#
# Prints one line per run; docs/BENCHMARKS.md records the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
rounds=${2:-3}
base=${BASE:-main}
work=$(mktemp -d /var/tmp/raftsql-txbench.XXXXXX)
chmod 755 "$work"
pids=()
pgdata=$work/pg
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -f "$pgdata/postmaster.pid" ]; then
		su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/pg_ctl -D $pgdata -m fast stop" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/after" "$work/before" "$work/src"
go build -o "$work/after/" ./cmd/raftsqld ./cmd/raftsql
git archive "$base" | tar -x -C "$work/src"
(cd "$work/src" && go build -o "$work/before/" ./cmd/raftsqld ./cmd/raftsql)

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
declare -a RAFT PG HTTP
cluster_pids=()
start_cluster() { # start_cluster BIN-DIR [TAG]
	local bin=$1 tag=${2:-c}
	cluster_pids=()
	for i in 0 1 2; do RAFT[$i]=127.0.0.1:$(port); PG[$i]=$(port); HTTP[$i]=127.0.0.1:$(port); done
	for i in 0 1 2; do
		local extra=(--join "${RAFT[0]}")
		[ "$i" = 0 ] && extra=(--bootstrap --pprof)
		rm -rf "$work/$tag-n$i"
		"$bin/raftsqld" --id "n$((i + 1))" --data-dir "$work/$tag-n$i" --raft-addr "${RAFT[$i]}" \
			--pg-addr "127.0.0.1:${PG[$i]}" --http-addr "${HTTP[$i]}" --log-level warn "${extra[@]}" \
			>"$work/$tag-n$i.log" 2>&1 &
		pids+=($!)
		cluster_pids+=($!)
		if [ "$i" = 0 ]; then
			for _ in $(seq 1 300); do "$bin/raftsql" status --addr "${HTTP[0]}" >/dev/null 2>&1 && break; sleep 0.2; done
		fi
	done
	for _ in $(seq 1 300); do
		[ "$("$bin/raftsql" status --addr "${HTTP[0]}" 2>/dev/null | grep -c '^n[123] ')" = 3 ] && return 0
		sleep 0.2
	done
	echo "cluster did not form" >&2
	exit 1
}
stop_cluster() {
	for p in "${cluster_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${cluster_pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
tps() { grep -o 'tps = [0-9.]*' | head -1 | cut -d' ' -f3; }
failed() { grep -o 'number of failed transactions: [0-9]*' | grep -o '[0-9]*$' || echo "?"; }

# bench -w tx, before and after, alternating (TX_ROUNDS, default rounds).
for r in $(seq 1 "${TX_ROUNDS:-$rounds}"); do
	for v in before after; do
		start_cluster "$work/$v"
		for c in 1 16; do
			out=$("$work/$v/raftsql" bench --addr "127.0.0.1:${PG[0]}" -w tx -c "$c" -d 5s 2>&1 | tail -3 | tr '\n' ' ')
			echo "bench-tx $v c=$c round=$r: $out"
		done
		stop_cluster
	done
done

# PostgreSQL 15, private instance.
echo "starting PostgreSQL" >&2
pgport=$(port)
mkdir -p "$pgdata" && chown postgres "$pgdata"
su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/initdb -D $pgdata -U postgres -A trust" >/dev/null
su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/pg_ctl -D $pgdata -l $pgdata/log -o '-p $pgport -k $pgdata -c listen_addresses=127.0.0.1' -w start" >/dev/null
pgbench -h 127.0.0.1 -p "$pgport" -U postgres -i -s 10 -q postgres >"$work/pginit.log" 2>&1 || { cat "$work/pginit.log"; exit 1; }
echo "loading raftsql" >&2

# TPC-B on this tree (after) and, with TPCB_BASE=1, on BASE too, both
# clusters up at once and driven in turn.
versions=(after)
[ "${TPCB_BASE:-0}" = 1 ] && versions+=(before)
declare -A LEADER FOLLOWER ADMIN
for v in "${versions[@]}"; do
	start_cluster "$work/$v" "$v"
	LEADER[$v]=${PG[0]} FOLLOWER[$v]=${PG[1]} ADMIN[$v]=${HTTP[0]}
	start=$(date +%s)
	pgbench -h 127.0.0.1 -p "${FOLLOWER[$v]}" -U raftsql -i -I dtgp -s 10 raftsql >"$work/init.log" 2>&1 || { cat "$work/init.log"; exit 1; }
	echo "raftsql ($v) pgbench -i -s 10 through a follower: $(($(date +%s) - start)) s"
done
run() { pgbench -h 127.0.0.1 -p "$1" -U "$2" -n -M prepared -c 8 -j 2 -T "$secs" "$3" 2>&1; }
for r in $(seq 1 "$rounds"); do
	out=$(run "$pgport" postgres postgres); echo "tpcb postgres round=$r tps=$(echo "$out" | tps) failed=$(echo "$out" | failed)"
	for v in "${versions[@]}"; do
		if [ "$r" = 1 ] && [ "$v" = after ]; then
			curl -s -o "$work/leader.pprof" "http://${ADMIN[$v]}/debug/pprof/profile?seconds=$((secs - 5))" &
			prof=$!
		fi
		out=$(run "${LEADER[$v]}" raftsql raftsql); echo "tpcb $v leader round=$r tps=$(echo "$out" | tps) failed=$(echo "$out" | failed)"
		if [ "$r" = 1 ] && [ "$v" = after ]; then
			wait "$prof" || true
			go tool pprof -top -nodecount=35 "$work/after/raftsqld" "$work/leader.pprof" 2>/dev/null | sed 's/^/pprof /' | head -45
			cp "$work/leader.pprof" /var/tmp/raftsql-leader-tpcb.pprof || true
		fi
		out=$(run "${FOLLOWER[$v]}" raftsql raftsql); echo "tpcb $v follower round=$r tps=$(echo "$out" | tps) failed=$(echo "$out" | failed)"
	done
done

# select-only on the same clusters, interleaved the same way.
srun() { pgbench -h 127.0.0.1 -p "$1" -U "$2" -n -S -M prepared -c 8 -j 2 -T 10 "$3" 2>&1; }
for r in $(seq 1 "${SELECT_ROUNDS:-$rounds}"); do
	out=$(srun "$pgport" postgres postgres); echo "select postgres round=$r tps=$(echo "$out" | tps)"
	for v in "${versions[@]}"; do
		if [ "$r" = 1 ] && [ "$v" = after ]; then
			curl -s -o "$work/leader-select.pprof" "http://${ADMIN[$v]}/debug/pprof/profile?seconds=8" &
			prof=$!
		fi
		out=$(srun "${LEADER[$v]}" raftsql raftsql); echo "select $v leader round=$r tps=$(echo "$out" | tps)"
		if [ "$r" = 1 ] && [ "$v" = after ]; then
			wait "$prof" || true
			go tool pprof -top -nodecount=25 "$work/after/raftsqld" "$work/leader-select.pprof" 2>/dev/null | sed 's/^/pprof-select /' | head -35
			cp "$work/leader-select.pprof" /var/tmp/raftsql-leader-select.pprof || true
		fi
		out=$(srun "${FOLLOWER[$v]}" raftsql raftsql); echo "select $v follower round=$r tps=$(echo "$out" | tps)"
	done
done
