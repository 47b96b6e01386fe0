package server_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// connectMode connects to node i with pgx's exec mode (cache_statement, the
// default, prepares every statement; simple_protocol sends text only).
func connectMode(t testing.TB, c *servertest.Cluster, i int, mode string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN(i)+"&default_query_exec_mode="+mode)
	if err != nil {
		t.Fatalf("connect to node %d: %v", i, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestDDLInsideTransaction: a transaction block sees the tables it created
// and the columns it added, at Parse/Describe (pgx prepares every
// statement) as when running, on the leader and through a follower, and
// the commit replicates it all.
func TestDDLInsideTransaction(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx := context.Background()
	for _, node := range []int{c.Leader(), c.Follower()} {
		for _, mode := range []string{"cache_statement", "cache_describe", "simple_protocol"} {
			table := fmt.Sprintf("m_%d_%s", node, mode)
			conn := connectMode(t, c, node, mode)
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, sql := range []string{
				"CREATE TABLE " + table + " (a int)",
				"INSERT INTO " + table + " VALUES (1)",
				"ALTER TABLE " + table + " ADD COLUMN c TEXT",
				"UPDATE " + table + " SET c = 'x'",
				"CREATE INDEX " + table + "_c ON " + table + " (c)",
			} {
				if _, err := tx.Exec(ctx, sql); err != nil {
					t.Fatalf("node %d, %s: %s: %v", node, mode, sql, err)
				}
			}
			var a int32
			var cv string
			if err := tx.QueryRow(ctx, "SELECT a, c FROM "+table+" WHERE a = $1", 1).Scan(&a, &cv); err != nil || a != 1 || cv != "x" {
				t.Fatalf("node %d, %s: select in the block: %d %q %v", node, mode, a, cv, err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatalf("node %d, %s: commit: %v", node, mode, err)
			}
			// A block that creates a table and rolls back leaves nothing.
			tx, err = conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, "CREATE TABLE "+table+"_gone (x int)"); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO "+table+"_gone VALUES ($1)", 5); err != nil {
				t.Fatalf("node %d, %s: insert into the new table: %v", node, mode, err)
			}
			if err := tx.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// One query string, as psycopg and migration tools send it.
		conn := connectMode(t, c, node, "simple_protocol")
		table := fmt.Sprintf("q_%d", node)
		if _, err := conn.Exec(ctx, "BEGIN; CREATE TABLE "+table+" (a int); INSERT INTO "+table+" VALUES (1); ALTER TABLE "+table+
			" ADD COLUMN c int; UPDATE "+table+" SET c = a + 1; COMMIT;"); err != nil {
			t.Fatalf("node %d: one-string block: %v", node, err)
		}
	}
	c.EnsureSame()
	for i := 0; i < c.Size(); i++ {
		conn := connect(t, c, i)
		c.WaitSynced()
		for _, node := range []int{c.Leader(), c.Follower()} {
			if n := count(t, conn, fmt.Sprintf("SELECT count(*) FROM m_%d_cache_statement WHERE c = 'x'", node)); n != 1 {
				t.Errorf("node %d: %d rows of m_%d_cache_statement", i, n, node)
			}
			if n := count(t, conn, fmt.Sprintf("SELECT c FROM q_%d", node)); n != 2 {
				t.Errorf("node %d: q_%d.c = %d, want 2", i, node, n)
			}
		}
		if n := count(t, conn, "SELECT count(*) FROM sqlite_schema WHERE name LIKE '%_gone'"); n != 0 {
			t.Errorf("node %d: rolled-back tables exist", i)
		}
	}
}

// TestDDLInsideTransactionPsql runs the block through psql, a single -c
// string and a script with \set ON_ERROR_STOP.
func TestDDLInsideTransactionPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client)")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	node := c.Follower()
	host, port, _ := strings.Cut(c.PGAddr(node), ":")
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, append([]string{"-h", host, "-p", port, "-U", "raftsql", "-d", "raftsql", "-X", "-v", "ON_ERROR_STOP=1", "-A", "-t"}, args...)...)
		cmd.Env = append(cmd.Environ(), "PGCONNECT_TIMEOUT=10")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("psql %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("-c", "BEGIN; CREATE TABLE t (a int); INSERT INTO t VALUES (1); COMMIT;")
	// -1: psql wraps the commands in BEGIN … COMMIT, one round trip each.
	if out := run("-1", "-c", "ALTER TABLE t ADD COLUMN c TEXT", "-c", "UPDATE t SET c = 'y'", "-c", "SELECT a, c FROM t"); !strings.Contains(out, "1|y") {
		t.Fatalf("psql output:\n%s", out)
	}
	c.EnsureSame()
}

var execModes = []string{"cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"}

// TestColumnTypesSameInEveryProtocol: a column's type is its declared
// type as Postgres types it, whichever protocol or result format pgx uses,
// and REAL arrives with all its 8 bytes.
func TestColumnTypesSameInEveryProtocol(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx := context.Background()
	conn := connect(t, c, c.Leader())
	mustExec(t, conn, "CREATE TABLE ty (i INTEGER, b BIGINT, r REAL, d DOUBLE PRECISION, f FLOAT, t TEXT, s SMALLINT, f4 FLOAT4)")
	mustExec(t, conn, "INSERT INTO ty VALUES (1, 5000000000, 0.1, 0.1, 1e300, 'x', 2, 0.1), (2, -1, 1e-300, 2.5, -1e300, 'y', -2, 1e300)")
	c.WaitSynced()
	wantOIDs := []uint32{23, 20, 701, 701, 701, 25, 21, 701, 25, 23}
	for _, node := range []int{c.Leader(), c.Follower()} {
		for _, mode := range execModes {
			conn := connectMode(t, c, node, mode)
			rows, err := conn.Query(ctx, "SELECT i, b, r, d, f, t, s, f4, CASE WHEN i = 1 THEN 5 ELSE 'five' END AS e, 7 AS lit FROM ty ORDER BY i",
				pgx.QueryResultFormats{})
			if err != nil {
				t.Fatalf("node %d, %s: %v", node, mode, err)
			}
			var got []uint32
			for _, fd := range rows.FieldDescriptions() {
				got = append(got, fd.DataTypeOID)
			}
			if fmt.Sprint(got) != fmt.Sprint(wantOIDs) {
				t.Errorf("node %d, %s: OIDs %v, want %v", node, mode, got, wantOIDs)
			}
			type row struct {
				i       int32
				b       int64
				r, d, f float64
				t       string
				s       int16
				f4      float64
				e       string
				lit     int32
			}
			var rs []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.i, &r.b, &r.r, &r.d, &r.f, &r.t, &r.s, &r.f4, &r.e, &r.lit); err != nil {
					t.Fatalf("node %d, %s: scan: %v", node, mode, err)
				}
				rs = append(rs, r)
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("node %d, %s: %v", node, mode, err)
			}
			want := []row{{1, 5000000000, 0.1, 0.1, 1e300, "x", 2, 0.1, "5", 7}, {2, -1, 1e-300, 2.5, -1e300, "y", -2, 1e300, "five", 7}}
			if fmt.Sprint(rs) != fmt.Sprint(want) {
				t.Errorf("node %d, %s: rows %v, want %v", node, mode, rs, want)
			}
		}
	}
}

// TestValuesThatDoNotFitTheirColumn: SQLite lets 2.5 or 'abc' into an
// INTEGER column (a literal 'abc' is refused, as an integer; an
// expression of text is not); reading such a value is an error that names
// the column, in every protocol and format, while values that fit are
// read unharmed.
func TestValuesThatDoNotFitTheirColumn(t *testing.T) {
	c := servertest.NewCluster(t, 1, servertest.Options{})
	ctx := context.Background()
	conn := connect(t, c, 0)
	mustExec(t, conn, "CREATE TABLE mf (id INTEGER PRIMARY KEY, n INTEGER, v TEXT)")
	mustExec(t, conn, "INSERT INTO mf VALUES (1, 2.5, 'a'), (2, 'abc'::text, 3), (3, 5000000000, x'00ff'), (4, 7.0, 4.5), (5, '8', 'e')")
	for _, mode := range execModes {
		conn := connectMode(t, c, 0, mode)
		for id, code := range map[int]string{1: "22P02", 2: "22P02", 3: "22003"} {
			var n int32
			err := conn.QueryRow(ctx, "SELECT n FROM mf WHERE id = $1", id).Scan(&n)
			if err == nil || !strings.Contains(err.Error(), `column "n"`) || !strings.Contains(err.Error(), code) {
				t.Errorf("%s: id %d: got %d, %v; want a %s error naming column n", mode, id, n, err, code)
			}
		}
		var n int32
		if err := conn.QueryRow(ctx, "SELECT n FROM mf WHERE id = 4").Scan(&n); err != nil || n != 7 {
			t.Errorf("%s: 7.0 in an INTEGER column: %d, %v", mode, n, err)
		}
		if err := conn.QueryRow(ctx, "SELECT n FROM mf WHERE id = 5").Scan(&n); err != nil || n != 8 {
			t.Errorf("%s: '8' in an INTEGER column: %d, %v", mode, n, err)
		}
		// A text column takes every value, as text.
		var vs []string
		rows, err := conn.Query(ctx, "SELECT v FROM mf ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatalf("%s: %v", mode, err)
			}
			vs = append(vs, v)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if got := strings.Join(vs, ","); got != `a,3,\x00ff,4.5,e` {
			t.Errorf("%s: text column read as %q", mode, got)
		}
		// The session goes on after the error.
		if n := count(t, conn, "SELECT count(*) FROM mf"); n != 5 {
			t.Errorf("%s: count %d", mode, n)
		}
	}
}

// TestSerialColumns: SERIAL, BIGSERIAL, SMALLSERIAL and identity columns
// number the rows, RETURNING reports the numbers, a deleted number is not
// handed out again, and every node stores the same.
func TestSerialColumns(t *testing.T) {
	// About numbering, not failover: the leader must not move between
	// the writes whose numbers are counted.
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) { steady(cfg) }})
	ctx := context.Background()
	leader := connect(t, c, c.Leader())
	for _, ddl := range []string{
		"CREATE TABLE s1 (id SERIAL PRIMARY KEY, v TEXT)",
		"CREATE TABLE s2 (id BIGSERIAL, v TEXT, PRIMARY KEY (id))",
		"CREATE TABLE s3 (id SMALLSERIAL, v TEXT)",
		"CREATE TABLE s4 (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v TEXT)",
		"CREATE TABLE s5 (id bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 1), v TEXT NOT NULL, CONSTRAINT s5_pkey PRIMARY KEY (id))",
	} {
		mustExec(t, leader, ddl)
	}
	// A serial that is not the key, created inside a transaction block.
	tx, err := leader.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE s6 (code TEXT PRIMARY KEY, n SERIAL, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO s6 (code, v) VALUES ('a', 'a'), ('b', 'a')"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	c.WaitSynced()
	next := map[string]int64{}
	for _, node := range []int{c.Leader(), c.Follower()} {
		for _, mode := range []string{"cache_statement", "simple_protocol"} {
			conn := connectMode(t, c, node, mode)
			for _, table := range []string{"s1", "s2", "s3", "s4", "s5"} {
				next[table]++
				rows, err := conn.Query(ctx, "INSERT INTO "+table+" (v) VALUES ($1) RETURNING id", mode)
				if err != nil {
					t.Fatalf("%s on node %d, %s: %v", table, node, mode, err)
				}
				// A query that failed describes no column.
				if len(rows.FieldDescriptions()) == 0 {
					rows.Close()
					t.Fatalf("%s on node %d, %s: %v", table, node, mode, rows.Err())
				}
				// The key is SQLite's rowid, which holds any 64-bit
				// integer: int8 whatever the serial's width.
				if oid := rows.FieldDescriptions()[0].DataTypeOID; oid != 20 {
					t.Errorf("%s: id is OID %d, want int8", table, oid)
				}
				var id *int64
				for rows.Next() {
					if err := rows.Scan(&id); err != nil {
						t.Fatal(err)
					}
				}
				if err := rows.Err(); err != nil {
					t.Fatalf("%s on node %d, %s: %v", table, node, mode, err)
				}
				if id == nil || *id != next[table] {
					t.Fatalf("%s on node %d, %s: RETURNING id = %v, want %d", table, node, mode, id, next[table])
				}
			}
			if _, err := conn.Exec(ctx, "INSERT INTO s6 (code, v) VALUES ($1, 'x')", fmt.Sprint(node, mode)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The last number is not handed out again after its row is deleted.
	mustExec(t, leader, "DELETE FROM s1 WHERE id = (SELECT max(id) FROM s1)")
	var id int64
	if err := leader.QueryRow(ctx, "INSERT INTO s1 (v) VALUES ('after') RETURNING id").Scan(&id); err != nil || id != next["s1"]+1 {
		t.Errorf("after deleting the last row: id %d, %v; want %d", id, err, next["s1"]+1)
	}
	// Explicit values are taken, as with BY DEFAULT.
	mustExec(t, leader, "INSERT INTO s3 (id, v) VALUES (100, 'explicit')")
	if err := leader.QueryRow(ctx, "INSERT INTO s3 (v) VALUES ('then') RETURNING id").Scan(&id); err != nil || id != 101 {
		t.Errorf("after an explicit 100: id %d, %v; want 101", id, err)
	}
	var ns string
	if err := leader.QueryRow(ctx, "SELECT group_concat(n, ',') FROM (SELECT n FROM s6 ORDER BY n)").Scan(&ns); err != nil || ns != "1,2,3,4,5,6" {
		t.Errorf("s6.n = %q, %v; want 1..6", ns, err)
	}
	if n := count(t, leader, "SELECT count(*) FROM s1 WHERE id IS NULL"); n != 0 {
		t.Errorf("%d NULL ids", n)
	}
	// A serial column added later numbers the rows there and the new ones.
	mustExec(t, leader, "ALTER TABLE s3 ADD COLUMN seq BIGSERIAL")
	mustExec(t, leader, "INSERT INTO s3 (v) VALUES ('last')")
	if n := count(t, leader, "SELECT count(DISTINCT seq) FROM s3 WHERE seq IS NOT NULL"); n != count(t, leader, "SELECT count(*) FROM s3") {
		t.Errorf("s3.seq: %d distinct numbers", n)
	}
	c.EnsureSame()

	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client)")
	}
	host, port, _ := strings.Cut(c.PGAddr(c.Follower()), ":")
	out, err := exec.Command(psql, "-h", host, "-p", port, "-U", "raftsql", "-d", "raftsql", "-X", "-v", "ON_ERROR_STOP=1",
		"-c", `\d s1`, "-c", `\d s6`, "-c", "INSERT INTO s1 (v) VALUES ('psql') RETURNING id").CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	for _, want := range []string{
		" id     | integer |           | not null | nextval('s1_id_seq'::regclass)",
		" n      | integer |           |          | nextval('s6_n_seq'::regclass)",
		fmt.Sprintf("  %d\n(1 row)", next["s1"]+2),
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("psql output lacks %q:\n%s", want, out)
		}
	}
}

// TestDescribeInFailedBlock: after an error in a block, preparing a
// statement answers 25P02 as Postgres does, but ROLLBACK can still be
// prepared and run, on the leader and through a follower.
func TestDescribeInFailedBlock(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx := context.Background()
	for _, node := range []int{c.Leader(), c.Follower()} {
		conn := connect(t, c, node)
		pc := conn.PgConn()
		table := fmt.Sprintf("fb%d", node)
		for _, sql := range []string{"BEGIN", "CREATE TABLE " + table + " (a int)"} {
			if err := pc.Exec(ctx, sql).Close(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := pc.Prepare(ctx, "", "SELECT a FROM "+table, nil); err != nil {
			t.Fatalf("node %d: prepare on the new table: %v", node, err)
		}
		if err := pc.Exec(ctx, "INSERT INTO nowhere VALUES (1)").Close(); err == nil {
			t.Fatal("insert into a missing table succeeded")
		}
		if _, err := pc.Prepare(ctx, "", "SELECT a FROM "+table, nil); err == nil || !strings.Contains(err.Error(), "25P02") {
			t.Fatalf("node %d: prepare in a failed block: %v, want 25P02", node, err)
		}
		if _, err := pc.Prepare(ctx, "rb", "ROLLBACK", nil); err != nil {
			t.Fatalf("node %d: prepare ROLLBACK: %v", node, err)
		}
		if _, err := pc.ExecPrepared(ctx, "rb", nil, nil, nil).Close(); err != nil {
			t.Fatalf("node %d: ROLLBACK: %v", node, err)
		}
		if st := pc.TxStatus(); st != 'I' {
			t.Fatalf("node %d: status %c after ROLLBACK", node, st)
		}
	}
	c.EnsureSame()
}
