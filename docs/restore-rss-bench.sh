#!/usr/bin/env bash
# Measures restores of a large database on a 3-node
# cluster of raftsqld processes on 127.0.0.1, one after the other (RUNS,
# default 2): the time of each against cp of the file in the same run, and
# every node's memory while it runs: VmHWM (reset before each restore with
# clear_refs), and the largest RssAnon (heap) and RssFile (mapped files:
# the binary, bolt's memory-mapped log) seen in samples every 0.3 s. Every
# node snapshots before the first restore, so that idle is idle.
# Usage: [RUNS=2] [BLOB=bytes] [NODE_ARGS=...] docs/restore-rss-bench.sh [MiB]   (default 256)
set -euo pipefail
cd "$(dirname "$0")/.."

MIB=${1:-256}
RUNS=${RUNS:-2}
. docs/cluster.sh
start_cluster
load_blobs "$MIB"
for i in 0 1 2; do "$work/raftsql" snapshot --addr "${HTTP[$i]}" >/dev/null; done
addrs="${HTTP[0]},${HTTP[1]},${HTTP[2]}"
"$work/raftsql" backup --quiet --addr "$addrs" -o "$work/backup.db" >/dev/null
kb() { awk -v k="$2:" '$1 == k { print int($2 / 1024) }' "/proc/$1/status"; }
now() { date +%s.%N; }
printf 'idle (MiB, n1 n2 n3): VmRSS'; for p in "${pids[@]}"; do printf ' %s' "$(kb "$p" VmRSS)"; done
printf '; RssAnon'; for p in "${pids[@]}"; do printf ' %s' "$(kb "$p" RssAnon)"; done
printf '; RssFile'; for p in "${pids[@]}"; do printf ' %s' "$(kb "$p" RssFile)"; done; echo
for run in $(seq 1 "$RUNS"); do
	sync
	t0=$(now); cp "$work/backup.db" "$work/cp.db"; sync "$work/cp.db"; t1=$(now)
	cp_s=$(echo "$t1 - $t0" | bc -l)
	rm "$work/cp.db"
	for p in "${pids[@]}"; do echo 5 >"/proc/$p/clear_refs"; done
	(while true; do
		for p in "${pids[@]}"; do echo "$p $(kb "$p" RssAnon) $(kb "$p" RssFile)"; done
		sleep 0.3
	done) >"$work/samples" 2>/dev/null &
	sampler=$!
	t0=$(now)
	"$work/raftsql" restore --quiet --addr "$addrs" "$work/backup.db" >/dev/null
	wait_until "every node to apply the restore" synced
	t1=$(now)
	kill "$sampler"; wait "$sampler" 2>/dev/null || true
	restore_s=$(echo "$t1 - $t0" | bc -l)
	printf 'run %d: cp + sync %.2fs; restore %.2fs (%.1fx cp)\n' "$run" "$cp_s" "$restore_s" "$(echo "$restore_s / $cp_s" | bc -l)"
	for p in "${pids[@]}"; do
		printf '  pid %s: VmHWM %s MiB; max RssAnon %s, max RssFile %s MiB\n' "$p" "$(kb "$p" VmHWM)" \
			"$(awk -v p="$p" '$1 == p && $2 > m { m = $2 } END { print m + 0 }' "$work/samples")" \
			"$(awk -v p="$p" '$1 == p && $3 > m { m = $3 } END { print m + 0 }' "$work/samples")"
	done
done
