#!/usr/bin/env bash
# Measures pgbench's select-only workload (builtin select-only, scale
# $SCALE, default 10, -M prepared) at the nodes' default consistency on the leader and on a
# follower of a 3-node cluster of raftsqld processes, beside PostgreSQL 15
# (Debian's postgresql package) run as a private instance on 127.0.0.1 in
# the same temporary directory, with its default settings. Points are
# interleaved REPS times (default 3); prints one line per point.
#
#   docs/select-bench.sh [seconds-per-point] [clients]     (default 10, 8)
#
# RAFTSQLD=path runs that raftsqld binary instead (an older build, for a
# before-and-after comparison in the same run). Run as root, the script
# runs PostgreSQL as the postgres user.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
clients=${2:-8}
reps=${REPS:-3}
scale=${SCALE:-10}
pgbin=/usr/lib/postgresql/15/bin
# shellcheck source=docs/cluster.sh
. docs/cluster.sh
[ -n "${RAFTSQLD:-}" ] && cp "$RAFTSQLD" "$work/raftsqld"
start_cluster

pgport=$(port)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir "$work/pg"
[ "$(id -u)" = 0 ] && chown postgres "$work" "$work/pg"
as_pg "$pgbin/initdb" -D "$work/pg" -U postgres --auth=trust >/dev/null
as_pg "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
	-o "-p $pgport -k $work -c listen_addresses=127.0.0.1" start >/dev/null
stop_pg() { as_pg "$pgbin/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true; cleanup; }
trap stop_pg EXIT

PGCONNECT_TIMEOUT=10 pgbench -h 127.0.0.1 -p "$pgport" -U postgres -i -q -s "$scale" postgres >/dev/null 2>&1
PGCONNECT_TIMEOUT=10 pgbench -h 127.0.0.1 -p "${PG[0]}" -U raftsql -i -I dtgp -s "$scale" raftsql >/dev/null 2>&1
wait_until "replication" synced
# The leader's index in PG and HTTP (it may have moved since the start).
leader_index() { "$work/raftsql" status --addr "${HTTP[0]}" | awk '/^leader n/ { print substr($2, 2) - 1 }'; }
li=$(leader_index)
fi=$(((li + 1) % 3))

run() { # name port user db
	local tps
	tps=$(pgbench -h 127.0.0.1 -p "$2" -U "$3" -n -S -M prepared -c "$clients" -j 2 -T "$secs" "$4" 2>&1 |
		awk '/^tps/ { print $3 }')
	echo "$1 tps=$tps"
}
for _ in $(seq 1 "$reps"); do
	run postgres "$pgport" postgres postgres
	run leader "${PG[$li]}" raftsql raftsql
	run follower "${PG[$fi]}" raftsql raftsql
done
# How many quorum checks the leader's read barriers shared.
curl -s "http://${HTTP[$li]}/metrics" | grep -E '^raftsql_raft_read_(index|quorum_checks)_total'
