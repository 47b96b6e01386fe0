package server_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestSessionTimeZonePsql runs, through psql on a follower whose session is
// in Europe/Berlin, what Postgres reads in the session's TimeZone:
// date_trunc and extract of a timestamptz, a timestamptz literal without an
// offset, SHOW, current_setting and pg_settings; writes that truncate in the
// zone store the same instants on every node.
func TestSessionTimeZonePsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client)")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	run := func(node int, args ...string) string {
		t.Helper()
		host, port, _ := strings.Cut(c.PGAddr(node), ":")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, append([]string{"-h", host, "-p", port, "-U", "raftsql", "-d", "raftsql",
			"-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", "SET TIME ZONE 'Europe/Berlin'"}, args...)...)
		cmd.Env = append(cmd.Environ(), "PGCONNECT_TIMEOUT=10")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("psql on node %d %q: %v\n%s", node, args, err, out)
		}
		return strings.TrimSpace(strings.TrimPrefix(string(out), "SET\n"))
	}
	f := c.Follower()
	for _, tt := range []struct{ sql, want string }{
		// Postgres 15 answers these.
		{"SELECT date_trunc('day', '2026-03-29 01:30+00'::timestamptz)", "2026-03-29 00:00:00+01"},
		{"SELECT date_trunc('hour', '2026-03-29 01:30+00'::timestamptz), extract(hour from '2026-03-29 01:30+00'::timestamptz)",
			"2026-03-29 03:00:00+02|3"},
		{"SELECT '2026-01-01 10:00'::timestamptz, '2026-07-01 10:00'::timestamptz, '2026-01-01 10:00Z'::timestamptz",
			"2026-01-01 10:00:00+01|2026-07-01 10:00:00+02|2026-01-01 11:00:00+01"},
		{"SELECT '2026-01-01 10:00+05'::timestamptz AT TIME ZONE 'UTC', timezone('utc', '2026-01-01 10:00+05'::timestamptz)",
			"2026-01-01 05:00:00|2026-01-01 05:00:00"},
		{"SELECT '2026-01-01 10:00'::timestamp AT TIME ZONE 'America/New_York'", "2026-01-01 16:00:00+01"},
		{"SHOW TimeZone", "Europe/Berlin"},
		{"SELECT current_setting('TimeZone'), (SELECT setting FROM pg_settings WHERE name = 'TimeZone')", "Europe/Berlin|Europe/Berlin"},
		{"SELECT 1.5, 1.0, 1.50, pg_typeof(1.5)", "1.5|1.0|1.50|numeric"},
	} {
		if got := run(f, "-c", tt.sql); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.sql, got, tt.want)
		}
	}

	// Writes carry the zone: every node stores the instant Berlin's day
	// starts at, whatever its own zone.
	run(f, "-c", "CREATE TABLE ev (id int PRIMARY KEY, at timestamptz, day timestamptz, "+
		"made timestamp(6) DEFAULT CURRENT_TIMESTAMP(6), made_utc timestamp DEFAULT (now() AT TIME ZONE 'utc'))",
		"-c", "INSERT INTO ev (id, at) VALUES (1, '2026-03-29 01:30'), (2, '2026-03-29 01:30+00')",
		"-c", "UPDATE ev SET day = date_trunc('day', at::timestamptz)")
	c.WaitSynced()
	for i := 0; i < c.Size(); i++ {
		out := run(i, "-c", "SET raftsql.read_consistency = none", "-c", "SET TIME ZONE 'UTC'",
			"-c", "SELECT id, day, made IS NOT NULL, made_utc IS NOT NULL FROM ev ORDER BY id")
		want := "SET\nSET\n1|2026-03-28 23:00:00+00|t|t\n2|2026-03-28 23:00:00+00|t|t"
		if out != want {
			t.Errorf("node %d:\n%s\nwant\n%s", i, out, want)
		}
	}
	c.EnsureSame()
}

// TestResultTypesPgx: the types pgx reads from RowDescription, in both
// protocols: an aggregate keeps its column's type or the one Postgres
// derives from it (an integer's min an int4, in 4 bytes of binary when
// asked), a decimal literal is a numeric pgx decodes, and a
// timestamptz parameter without an offset is read in the session's zone.
func TestResultTypesPgx(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	setup := connectMode(t, c, c.Leader(), "cache_statement")
	for _, sql := range []string{
		"CREATE TABLE agg (id int, ts timestamptz, d date, n numeric(10,2), i int, b bigint, f float8, s text)",
		"INSERT INTO agg VALUES (1, '2026-01-01 10:00+00', '2026-01-02', 1.25, 2, 3, 0.5, 'x'), (2, '2026-01-01 12:00+00', '2026-01-03', 2.5, 5, 4, 1.5, 'y')",
	} {
		if _, err := setup.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	for _, mode := range []string{"cache_statement", "simple_protocol"} {
		conn := connectMode(t, c, c.Follower(), mode)
		rows, err := conn.Query(ctx, "SELECT max(ts), min(d), sum(i), sum(b), sum(n), avg(i), sum(f), max(s), "+
			"date_trunc('day', max(ts)::timestamptz), 1.5, min(i), min(i) FROM agg")
		if err != nil {
			t.Fatal(err)
		}
		var oids []uint32
		for _, fd := range rows.FieldDescriptions() {
			oids = append(oids, fd.DataTypeOID)
		}
		var (
			maxTS, trunc time.Time
			minD         time.Time
			sumI, sumB   int64
			sumN, avgI   pgtype.Numeric
			sumF         float64
			maxS         string
			lit          float64
			minI32       int32
			minI64       int64
		)
		for rows.Next() {
			if err := rows.Scan(&maxTS, &minD, &sumI, &sumB, &sumN, &avgI, &sumF, &maxS, &trunc, &lit, &minI32, &minI64); err != nil {
				t.Fatalf("%s: %v", mode, err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if want := []uint32{1184, 1082, 20, 1700, 1700, 1700, 701, 25, 1184, 1700, 23, 23}; fmt.Sprint(oids) != fmt.Sprint(want) {
			t.Errorf("%s: column types %v, want %v", mode, oids, want)
		}
		n, _ := sumN.Float64Value()
		a, _ := avgI.Float64Value()
		if !maxTS.Equal(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)) || minD.Format("2006-01-02") != "2026-01-02" ||
			sumI != 7 || sumB != 7 || n.Float64 != 3.75 || a.Float64 != 3.5 || sumF != 2 || maxS != "y" ||
			!trunc.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || lit != 1.5 || minI32 != 2 || minI64 != 2 {
			t.Errorf("%s: %v %v %d %d %v %v %v %q %v %v %d %d", mode, maxTS, minD, sumI, sumB, n.Float64, a.Float64, sumF, maxS,
				trunc, lit, minI32, minI64)
		}
		var one string
		if err := conn.QueryRow(ctx, "SELECT 1.0::text, 1.0").Scan(&one, new(pgtype.Numeric)); err != nil || one != "1.0" {
			t.Errorf("%s: SELECT 1.0::text = %q, %v", mode, one, err)
		}

		// A parameter without an offset, in the session's zone.
		if _, err := conn.Exec(ctx, "SET TIME ZONE 'Europe/Berlin'"); err != nil {
			t.Fatal(err)
		}
		var got time.Time
		if err := conn.QueryRow(ctx, "SELECT $1::timestamptz", pgx.QueryExecModeExec, "2026-01-01 10:00").Scan(&got); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if !got.Equal(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: '2026-01-01 10:00' in Berlin is %v", mode, got.UTC())
		}
	}
}
