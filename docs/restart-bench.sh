#!/usr/bin/env bash
# Measures how long a follower holding a large database takes to restart,
# on a 3-node cluster of raftsqld processes on 127.0.0.1: after SIGTERM (a
# clean shutdown: the node keeps its database file) and after SIGKILL (it
# restores its snapshot into a new file), against cp of the same file in the
# same run, and how long the clean shutdown takes (from SIGTERM until the
# process exits). A restart's time runs from the start of the process until
# the cluster reports the node at lag 0. Each is measured REPS times
# (default 3), alternating, and the median kept.
# Usage: [REPS=3] [BLOB=bytes] docs/restart-bench.sh [MiB]   (default 256)
set -euo pipefail
cd "$(dirname "$0")/.."

MIB=${1:-256}
REPS=${REPS:-3}
. docs/cluster.sh
start_cluster
load_blobs "$MIB"
for i in 0 1 2; do "$work/raftsql" snapshot --addr "${HTTP[$i]}" >/dev/null; done
# Entries after the snapshot, which a restart replays.
psql_ -c "CREATE TABLE after_snapshot (x)"
for i in $(seq 1 20); do psql_ -c "INSERT INTO after_snapshot VALUES ($i)"; done
wait_until "replication" synced

leader=$("$work/raftsql" status --addr "${HTTP[0]}" | awk '$2 == "leader" { print substr($1, 2) - 1 }')
f=1
[ "$leader" = 1 ] && f=2
pid=${pids[$f]}
db="$work/n$f/db/raftsql.db"
size=$(stat -c %s "$db")
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
restart() { # restart SIGNAL: stop node f with SIGNAL, start it, wait until it is at lag 0; sets stopped and elapsed
	local t0 t1
	t0=$(now)
	kill "-$1" "$pid"
	wait "$pid" 2>/dev/null || true
	t1=$(now)
	stopped=$(echo "$t1 - $t0" | bc -l)
	t0=$(now)
	start "$f" --join "${RAFT[0]}"
	pid=${pids[-1]}
	wait_until "n$((f + 1)) to answer" "$work/raftsql" status --addr "${HTTP[$f]}"
	wait_until "n$((f + 1)) to catch up" synced
	t1=$(now)
	elapsed=$(echo "$t1 - $t0" | bc -l)
}
cps=() terms=() stops=() kills=() same=()
for rep in $(seq 1 "$REPS"); do
	sync
	t0=$(now); cp "$db" "$work/cp.db"; sync "$work/cp.db"; t1=$(now)
	cps+=("$(echo "$t1 - $t0" | bc -l)")
	rm "$work/cp.db"

	before=$(stat -c %i "$db")
	restart TERM
	terms+=("$elapsed")
	stops+=("$stopped")
	[ "$(stat -c %i "$db")" = "$before" ] && same+=(kept) || same+=(replaced)

	restart KILL
	kills+=("$elapsed")
done
cp_s=$(printf '%s\n' "${cps[@]}" | median)
term_s=$(printf '%s\n' "${terms[@]}" | median)
kill_s=$(printf '%s\n' "${kills[@]}" | median)
stop_s=$(printf '%s\n' "${stops[@]}" | median)
printf 'database: %d MiB (%d bytes); restarted n%d (leader n%d)\n' $((size >> 20)) "$size" $((f + 1)) $((leader + 1))
printf 'runs: cp %s; SIGTERM shutdown %s; SIGTERM restart %s (file %s); SIGKILL restart %s\n' "${cps[*]}" "${stops[*]}" "${terms[*]}" "${same[*]}" "${kills[*]}"
printf 'cp + sync:                      %.2fs (median)\n' "$cp_s"
printf 'shutdown on SIGTERM:            %.2fs  (%.2fx cp)\n' "$stop_s" "$(echo "$stop_s / $cp_s" | bc -l)"
printf 'restart after SIGTERM:          %.2fs  (%.2fx cp)\n' "$term_s" "$(echo "$term_s / $cp_s" | bc -l)"
printf 'restart after SIGKILL:          %.2fs  (%.2fx cp)\n' "$kill_s" "$(echo "$kill_s / $cp_s" | bc -l)"
