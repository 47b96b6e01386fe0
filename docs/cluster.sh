# Sourced by the benchmark scripts: builds raftsqld and raftsql into a
# temporary directory, starts a 3-node cluster of raftsqld processes on
# 127.0.0.1 (start_cluster), stops them and removes the directory on exit,
# and loads a database of large blobs (load_blobs MiB, in blobs of BLOB bytes,
# 16 MiB unless set). NODE_ARGS, set by
# the caller before start_cluster, adds flags to every raftsqld.

BLOB=${BLOB:-$((16 << 20))} # bytes of one blob
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/raftsqld" ./cmd/raftsqld
go build -o "$work/raftsql" ./cmd/raftsql

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
declare -a RAFT PG HTTP
for i in 0 1 2; do RAFT[$i]=127.0.0.1:$(port); PG[$i]=$(port); HTTP[$i]=127.0.0.1:$(port); done
start() {
	local i=$1; shift
	# shellcheck disable=SC2086 # NODE_ARGS holds several flags
	"$work/raftsqld" --id "n$((i + 1))" --data-dir "$work/n$i" --raft-addr "${RAFT[$i]}" \
		--pg-addr "127.0.0.1:${PG[$i]}" --http-addr "${HTTP[$i]}" --log-level warn ${NODE_ARGS:-} "$@" \
		>"$work/n$i.log" 2>&1 &
	pids+=($!)
}

wait_until() { # wait_until DESCRIPTION COMMAND...
	local what=$1; shift
	for _ in $(seq 1 600); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	echo "timed out waiting for $what" >&2
	exit 1
}
synced() { # every member reachable and at lag 0
	local out
	out=$("$work/raftsql" status --addr "${HTTP[0]}") || return 1
	[ "$(echo "$out" | grep -c '^n[123] ')" = 3 ] || return 1
	! echo "$out" | awk '/^n[123] / && $7 != 0 { bad = 1 } END { exit !bad }'
}
start_cluster() {
	start 0 --bootstrap
	wait_until "the first node" "$work/raftsql" status --addr "${HTTP[0]}"
	start 1 --join "${RAFT[0]}"
	start 2 --join "${RAFT[0]}"
	wait_until "three members" synced
}

psql_() { PGCONNECT_TIMEOUT=10 psql -h 127.0.0.1 -p "${PG[0]}" -U raftsql -d raftsql -X -q -v ON_ERROR_STOP=1 "$@"; }
load_blobs() { # load_blobs MiB: table b, rows of BLOB bytes, replicated
	psql_ -c "CREATE TABLE b (id INTEGER PRIMARY KEY, v BLOB)"
	for _ in $(seq 1 $(($1 * (1 << 20) / BLOB))); do
		psql_ -c "INSERT INTO b (v) VALUES (randomblob($BLOB))"
	done
	wait_until "replication" synced
}
