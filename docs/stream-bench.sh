#!/usr/bin/env bash
# Measures a large SELECT on one raftsqld node on 127.0.0.1, for this tree
# and for a baseline revision built in the same run: the node's peak RSS
# (VmHWM, reset before the read) and the time until the client has the
# first row, and the whole result. The client is a bare simple-protocol
# reader (python3, below) that keeps nothing. Then the peak RSS while four
# clients at once each send a query holding a 60 MB literal.
# Usage: docs/stream-bench.sh [MiB] [baseline revision]   (default 1024 main)
set -euo pipefail
cd "$(dirname "$0")/.."

MIB=${1:-1024}
BASE=${2:-main}
work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/raftsqld.new" ./cmd/raftsqld
mkdir "$work/base"
git archive "$BASE" | tar -x -C "$work/base"
(cd "$work/base" && go build -o "$work/raftsqld.base" ./cmd/raftsqld)

cat >"$work/read.py" <<'PY'
import socket, struct, sys, time
port, sql = int(sys.argv[1]), sys.argv[2]
if sql.startswith("@"):
    sql = open(sql[1:]).read()
s = socket.create_connection(("127.0.0.1", port))
def send(t, body):
    s.sendall(t + struct.pack("!I", len(body) + 4) + body)
params = b"user\0bench\0database\0bench\0\0"
s.sendall(struct.pack("!II", len(params) + 8, 196608) + params)
f = s.makefile("rb", buffering=1 << 16)
def msg():
    t = f.read(1)
    n = struct.unpack("!I", f.read(4))[0] - 4
    return t, f.read(n)
while msg()[0] != b"Z":
    pass
start = time.monotonic()
send(b"Q", sql.encode() + b"\0")
first = None
rows = size = 0
while True:
    t, body = msg()
    if t == b"D":
        if first is None:
            first = time.monotonic() - start
        rows += 1
        size += len(body)
    elif t == b"E":
        print("error:", body, file=sys.stderr); sys.exit(1)
    elif t == b"Z":
        break
print("%.2f %.2f %d %d" % (first, time.monotonic() - start, rows, size))
PY

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
q() { psql -X -q -t -A -h 127.0.0.1 -p "$PG" -U bench -d bench -c "$1"; }

measure() { # measure NAME DIR BINARY
	local name=$1 dir=$2 bin=$3
	RAFT=127.0.0.1:$(port) PG=$(port)
	"$bin" --id n1 --data-dir "$work/$dir" --raft-addr "$RAFT" --pg-addr "127.0.0.1:$PG" \
		--bootstrap --log-level warn >"$work/$name.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do q "SELECT 1" >/dev/null 2>&1 && break; sleep 0.2; done
	q "CREATE TABLE big (id INTEGER PRIMARY KEY, b BLOB)"
	for ((i = 0; i < MIB; i += 64)); do
		q "INSERT INTO big (b) SELECT randomblob(1048576) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 64) SELECT x FROM c)"
	done
	echo 5 >"/proc/$pid/clear_refs"
	local idle; idle=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")
	local out; out=$(python3 "$work/read.py" "$PG" "SET raftsql.read_consistency = none; SELECT id, b FROM big")
	local peak; peak=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")
	read -r first total rows bytes <<<"$out"
	# Then four clients at once, each with a query holding a 60 MB literal.
	echo 5 >"/proc/$pid/clear_refs"
	local lit="SELECT length('$(head -c 60000000 /dev/zero | tr '\0' x)')"
	printf '%s' "$lit" >"$work/lit.sql"
	local clients=()
	for _ in 1 2 3 4; do python3 "$work/read.py" "$PG" @"$work/lit.sql" >/dev/null & clients+=($!); done
	wait "${clients[@]}"
	local litpeak; litpeak=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")
	printf '| %s | %s MiB | %s MiB | %s s | %s s | %s | %s MiB |\n' "$name" "$idle" "$peak" "$first" "$total" "$rows" "$litpeak"
	kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
	rm -rf "${work:?}/$dir"
}

echo "| binary | RSS before the read | peak RSS | first row | whole result | rows | peak RSS, 4 × 60 MB literal |"
echo "|---|---|---|---|---|---|---|"
measure "$BASE" data.base "$work/raftsqld.base"
measure "this tree" data.new "$work/raftsqld.new"
