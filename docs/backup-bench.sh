#!/usr/bin/env bash
# Measures backup and restore of a large database on a 3-node cluster of
# raftsqld processes on 127.0.0.1: the time each takes against cp of the
# same file in the same run, and the peak RSS (VmHWM) of every node while it
# runs. Each is measured REPS times (default 3), alternating, and the median
# kept. Usage: [REPS=3] docs/backup-bench.sh [MiB]   (default 256; blobs of 16 MiB)
set -euo pipefail
cd "$(dirname "$0")/.."

MIB=${1:-256}
REPS=${REPS:-3}
. docs/cluster.sh
start_cluster
load_blobs "$MIB"
"$work/raftsql" snapshot --addr "${HTTP[0]}" >/dev/null # the file alone holds everything

leader=$("$work/raftsql" status --addr "${HTTP[0]}" | awk '$2 == "leader" { print substr($1, 2) - 1 }')
rss() { awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$1/status"; }
reset_rss() { for p in "${pids[@]}"; do echo 5 >"/proc/$p/clear_refs"; done; }
idle() { for p in "${pids[@]}"; do awk '/VmRSS/ { printf "%d ", $2 / 1024 }' "/proc/$p/status"; done; }
now() { date +%s.%N; }

db="$work/n$leader/db/raftsql.db"
size=$(stat -c %s "$db")
addrs="${HTTP[0]},${HTTP[1]},${HTTP[2]}"
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
peak() { for p in "${pids[@]}"; do printf "%s " "$(rss "$p")"; done; }
idle_rss=$(idle)
cps=() backups=() restores=()
for rep in $(seq 1 "$REPS"); do
	sync
	t0=$(now); cp "$db" "$work/cp.db"; sync "$work/cp.db"; t1=$(now)
	cps+=("$(echo "$t1 - $t0" | bc -l)")
	rm "$work/cp.db"

	reset_rss
	t0=$(now)
	"$work/raftsql" backup --quiet --addr "$addrs" -o "$work/backup.db" >"$work/backup.out"
	t1=$(now)
	backups+=("$(echo "$t1 - $t0" | bc -l)")
	backup_rss=$(peak)
	[ "$(sqlite3 "$work/backup.db" 'PRAGMA integrity_check')" = ok ]

	reset_rss
	t0=$(now)
	"$work/raftsql" restore --quiet --addr "$addrs" "$work/backup.db" >"$work/restore.out"
	wait_until "followers to install the restore" synced
	t1=$(now)
	restores+=("$(echo "$t1 - $t0" | bc -l)")
	restore_rss=$(peak)
	leader=$("$work/raftsql" status --addr "${HTTP[0]}" | awk '$2 == "leader" { print substr($1, 2) - 1 }')
	db="$work/n$leader/db/raftsql.db"
done
cp_s=$(printf '%s\n' "${cps[@]}" | median)
backup_s=$(printf '%s\n' "${backups[@]}" | median)
restore_s=$(printf '%s\n' "${restores[@]}" | median)

printf 'database: %d MiB (%d bytes); leader n%d\n' $((size >> 20)) "$size" $((leader + 1))
printf 'runs: cp %s; backup %s; restore %s\n' "${cps[*]}" "${backups[*]}" "${restores[*]}"
printf 'cp + sync:  %.2fs (median)\n' "$cp_s"
printf 'backup:     %.2fs  (%.1fx cp)  %s\n' "$backup_s" "$(echo "$backup_s / $cp_s" | bc -l)" "$(cat "$work/backup.out")"
printf 'restore:    %.2fs  (%.1fx cp)  %s\n' "$restore_s" "$(echo "$restore_s / $cp_s" | bc -l)" "$(cat "$work/restore.out")"
printf 'RSS idle (MiB, n1 n2 n3):           %s\n' "$idle_rss"
printf 'peak RSS during the last backup (MiB):  %s\n' "$backup_rss"
printf 'peak RSS during the last restore (MiB): %s\n' "$restore_rss"
