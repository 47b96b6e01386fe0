package server_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestAggregateResultTypes: an aggregate or window function of a table
// column has the type Postgres gives it (max(id) an integer, sum(n) a
// bigint, max(ts) a timestamptz …), taken from the column's declared type,
// in the extended protocol (pgx's binary results) and the simple one, on a
// follower; psql's \gdesc, psycopg and node-postgres read the same types;
// a value SQLite holds that does not fit the type is an error, as for the
// column itself.
func TestAggregateResultTypes(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	setup := connectMode(t, c, c.Leader(), "cache_statement")
	for _, sql := range []string{
		"CREATE TABLE tb (id int PRIMARY KEY, n int, t text, d numeric(10,2), r real, ts timestamptz, dt date, b boolean, big bigint, v varchar(10))",
		"INSERT INTO tb VALUES (1, 2, 'x', 1.25, 0.5, '2026-01-01 10:00+00', '2026-01-02', true, 3, 'a'), " +
			"(2, 5, 'y', 2.5, 1.5, '2026-01-01 12:00+00', '2026-01-03', false, 4, 'b')",
		"CREATE TABLE tu (id int PRIMARY KEY, k smallint)",
		"INSERT INTO tu VALUES (1, 7), (2, 8)",
	} {
		if _, err := setup.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	c.WaitSynced()
	f := c.Follower()

	const aggs = "SELECT max(id), min(n), sum(n), avg(n), sum(d), sum(r), avg(r), max(ts), min(dt), max(t), max(v), " +
		"sum(big), count(n), coalesce(max(n), 0), sum(tb.n) FILTER (WHERE b) AS s FROM tb WHERE id > $1"
	wantAggs := []uint32{23, 23, 20, 1700, 1700, 701, 701, 1184, 1082, 25, 25, 1700, 20, 23, 20}
	const windows = "SELECT id, lag(a.n) OVER (ORDER BY id), max(ts) OVER (), row_number() OVER (ORDER BY id), " +
		"first_value(dt) OVER w, sum(u.k) OVER w FROM tb a JOIN tu u USING (id) WINDOW w AS (ORDER BY id) ORDER BY id"
	wantWindows := []uint32{23, 23, 1184, 20, 1082, 20}
	oids := func(rows pgx.Rows) string {
		var out []uint32
		for _, fd := range rows.FieldDescriptions() {
			out = append(out, fd.DataTypeOID)
		}
		return fmt.Sprint(out)
	}
	for _, mode := range []string{"cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"} {
		conn := connectMode(t, c, f, mode)
		rows, err := conn.Query(ctx, aggs, 0)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if got := oids(rows); got != fmt.Sprint(wantAggs) {
			t.Errorf("%s: column types %s, want %v", mode, got, wantAggs)
		}
		var (
			maxID, sumN, sumBig8, count, sumF int64
			minN, coal                        int32
			avgN, sumD, sumBig                pgtype.Numeric
			sumR, avgR                        float64
			maxTS, minDT                      time.Time
			maxT, maxV                        string
		)
		if !rows.Next() {
			t.Fatalf("%s: no row: %v", mode, rows.Err())
		}
		if err := rows.Scan(&maxID, &minN, &sumN, &avgN, &sumD, &sumR, &avgR, &maxTS, &minDT, &maxT, &maxV,
			&sumBig, &count, &coal, &sumF); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		rows.Close()
		avg, _ := avgN.Float64Value()
		d, _ := sumD.Float64Value()
		big, _ := sumBig.Int64Value()
		sumBig8 = big.Int64
		if maxID != 2 || minN != 2 || sumN != 7 || avg.Float64 != 3.5 || d.Float64 != 3.75 || sumR != 2 || avgR != 1 ||
			!maxTS.Equal(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)) || minDT.Format(time.DateOnly) != "2026-01-02" ||
			maxT != "y" || maxV != "b" || sumBig8 != 7 || count != 2 || coal != 5 || sumF != 2 {
			t.Errorf("%s: %v %v %v %v %v %v %v %v %v %q %q %v %v %v %v", mode, maxID, minN, sumN, avg.Float64, d.Float64,
				sumR, avgR, maxTS, minDT, maxT, maxV, sumBig8, count, coal, sumF)
		}

		rows, err = conn.Query(ctx, windows)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if got := oids(rows); got != fmt.Sprint(wantWindows) {
			t.Errorf("%s: window column types %s, want %v", mode, got, wantWindows)
		}
		var got []string
		for rows.Next() {
			var (
				id      int32
				lag     *int32
				mts     time.Time
				rn, sum int64
				first   time.Time
			)
			if err := rows.Scan(&id, &lag, &mts, &rn, &first, &sum); err != nil {
				t.Fatalf("%s: %v", mode, err)
			}
			l := "null"
			if lag != nil {
				l = fmt.Sprint(*lag)
			}
			got = append(got, fmt.Sprintf("%d %s %s %d %s %d", id, l, mts.UTC().Format(time.TimeOnly), rn, first.Format(time.DateOnly), sum))
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if want := "[1 null 12:00:00 1 2026-01-02 7 2 2 12:00:00 2 2026-01-02 15]"; fmt.Sprint(got) != want {
			t.Errorf("%s: window rows %v, want %s", mode, got, want)
		}
	}

	// psql's \gdesc describes the statement (Parse, Describe) and names the
	// types through format_type.
	dir := t.TempDir()
	file := filepath.Join(dir, "gdesc.sql")
	if err := os.WriteFile(file, []byte("SELECT min(n), sum(n), avg(n), sum(d), max(id), max(ts), lag(v) OVER () FROM tb \\gdesc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := psqlRunner(t, c)(f, nil, "-A", "-t", "-f", file)
	want := "min|integer\nsum|bigint\navg|numeric\nsum|numeric\nmax|integer\nmax|timestamp with time zone\nlag|character varying"
	if strings.TrimSpace(out) != want {
		t.Errorf("\\gdesc:\n%s\nwant\n%s", out, want)
	}

	// psycopg2 (simple protocol) and psycopg 3 (extended, with a
	// parameter) get Python ints, a Decimal and a datetime.
	host, port, _ := strings.Cut(c.PGAddr(f), ":")
	script := `
import datetime, decimal, sys
mod = __import__(sys.argv[1])
conn = mod.connect("host=%s port=%s user=raftsql dbname=raftsql")
cur = conn.cursor()
cur.execute("SELECT max(id), min(n), sum(n), avg(n), max(ts), coalesce(max(n), 0) FROM tb WHERE id > %s", (0,))
row = cur.fetchone()
assert [type(v) for v in row] == [int, int, int, decimal.Decimal, datetime.datetime, int], repr(row)
assert row[:4] == (2, 2, 7, decimal.Decimal("3.5")), repr(row)
assert row[4] == datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.timezone.utc), repr(row)
print("ok")
`
	script = strings.Replace(strings.Replace(script, "%s", host, 1), "%s", port, 1)
	tried := 0
	for _, mod := range []string{"psycopg2", "psycopg"} {
		py := ""
		for _, cand := range []string{"python3", "/usr/bin/python3"} {
			if exec.Command(cand, "-c", "import "+mod).Run() == nil {
				py = cand
				break
			}
		}
		if py == "" {
			t.Logf("%s is not installed: not tried", mod)
			continue
		}
		tried++
		pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
		out, err := exec.CommandContext(pctx, py, "-c", script, mod).CombinedOutput()
		pcancel()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Errorf("%s: %v\n%s", mod, err, out)
		}
	}
	if tried == 0 {
		t.Log("neither psycopg2 nor psycopg is installed (apt-get install python3-psycopg2 python3-psycopg)")
	}

	// node-postgres, in both protocols: an integer's max a JavaScript
	// number, a bigint's (sum of integers) and a numeric's a string, as
	// Postgres' types make them, a timestamptz a Date.
	if node, err := exec.LookPath("node"); err != nil || exec.Command(node, "-e", "require('pg')").Run() != nil {
		t.Log("node-postgres is not installed (npm install pg, and NODE_PATH naming its node_modules): not tried")
	} else {
		out := runClient(t, c, f, node, "-e", `
const { Client } = require('pg');
(async () => {
  const c = new Client();
  await c.connect();
  const q = "SELECT max(id) AS a, min(n) AS b, sum(n) AS c, avg(n) AS d, max(ts) AS e, coalesce(max(n), 0) AS f FROM tb WHERE id >= ";
  for (const [name, res] of [["simple", await c.query(q + "1")], ["extended", await c.query(q + "$1", [1])]]) {
    const r = res.rows[0];
    console.log(name, JSON.stringify(r), Object.values(r).map(v => v instanceof Date ? "Date" : typeof v).join(","));
  }
  await c.end();
})().catch(e => { console.error(e); process.exit(1); });
`)
		row := `{"a":2,"b":2,"c":"7","d":"3.5","e":"2026-01-01T12:00:00.000Z","f":5} number,number,string,string,Date,number`
		for _, want := range []string{"simple " + row, "extended " + row} {
			if !strings.Contains(out, want) {
				t.Errorf("node-postgres output lacks %q:\n%s", want, out)
			}
		}
	}

	// A value of another storage class than its column's type: an error
	// naming the type, as when selecting the column, never bytes that
	// contradict the type announced.
	for _, sql := range []string{
		"CREATE TABLE tm (id int PRIMARY KEY, n int, t text, r real)",
		"INSERT INTO tm VALUES (1, 1, 'abc', 2.5), (2, 3, 'def', 0), (3, 4, 'ghi', 0)",
		// SQLite keeps 2.5 and 'def' in the INTEGER column.
		"UPDATE tm SET n = r WHERE id = 1",
		"UPDATE tm SET n = t WHERE id = 2",
	} {
		if _, err := setup.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	c.WaitSynced()
	for _, mode := range []string{"cache_statement", "simple_protocol"} {
		conn := connectMode(t, c, f, mode)
		for _, q := range []string{"SELECT n FROM tm WHERE id = 1", "SELECT sum(n) FROM tm", "SELECT min(n) FROM tm",
			"SELECT max(n) FROM tm"} {
			var v int64
			err := conn.QueryRow(ctx, q).Scan(&v)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "22P02" {
				t.Errorf("%s: %s: %v, %v; want 22P02", mode, q, v, err)
			}
		}
		var maxN int32
		if err := conn.QueryRow(ctx, "SELECT max(n) FROM tm WHERE id <> 2").Scan(&maxN); err != nil || maxN != 4 {
			t.Errorf("%s: max(n) %v, %v", mode, maxN, err)
		}
	}
}

// TestAggregatesInTransactionBlock: typing an aggregate asks the committed
// schema only, so a statement with aggregates inside a transaction block
// sees that block's own state and nothing of another's: a transfer half
// done in one block is seen by it alone, a table the block created is
// read (untyped, as the committed schema does not have it) and stays the
// block's. On the leader and through a follower, in both protocols.
func TestAggregatesInTransactionBlock(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	setup := connectMode(t, c, c.Leader(), "cache_statement")
	for _, sql := range []string{
		"CREATE TABLE acc (id int PRIMARY KEY, bal int)",
		"INSERT INTO acc VALUES (1, 100), (2, 100)",
	} {
		if _, err := setup.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	c.WaitSynced()
	type totals struct {
		sum      int64
		min, max int32
	}
	read := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) (totals, error) {
		var v totals
		err := q.QueryRow(ctx, "SELECT sum(bal), min(bal), max(a.bal) FROM acc a").Scan(&v.sum, &v.min, &v.max)
		return v, err
	}
	for _, node := range []int{c.Leader(), c.Follower()} {
		for _, mode := range []string{"cache_statement", "simple_protocol"} {
			name := fmt.Sprintf("node %d %s", node, mode)
			conn := connectMode(t, c, node, mode)
			other := connectMode(t, c, node, mode)
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, "UPDATE acc SET bal = bal - 10 WHERE id = 1"); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if v, err := read(tx); err != nil || v != (totals{190, 90, 100}) {
				t.Errorf("%s: the block reads %+v, %v; want its own debit", name, v, err)
			}
			if v, err := read(other); err != nil || v != (totals{200, 100, 100}) {
				t.Errorf("%s: another session reads %+v, %v; want the committed state", name, v, err)
			}
			tbl := fmt.Sprintf("tmp_%d_%s", node, mode)
			for _, sql := range []string{
				"CREATE TABLE " + tbl + " (n int)",
				"INSERT INTO " + tbl + " VALUES (4), (6)",
			} {
				if _, err := tx.Exec(ctx, sql); err != nil {
					t.Fatalf("%s: %s: %v", name, sql, err)
				}
			}
			var maxN, sumN string
			if err := tx.QueryRow(ctx, "SELECT max(n)::text, sum(n)::text FROM "+tbl).Scan(&maxN, &sumN); err != nil || maxN != "6" || sumN != "10" {
				t.Errorf("%s: the block's own table: %q %q, %v", name, maxN, sumN, err)
			}
			if v, err := read(tx); err != nil || v != (totals{190, 90, 100}) {
				t.Errorf("%s: the block reads %+v, %v after its DDL", name, v, err)
			}
			if _, err := tx.Exec(ctx, "UPDATE acc SET bal = bal + 10 WHERE id = 2"); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if v, err := read(other); err != nil || v != (totals{200, 100, 100}) {
				t.Errorf("%s: another session reads %+v, %v before the commit", name, v, err)
			}
			if err := tx.Rollback(ctx); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var n int
			err = other.QueryRow(ctx, "SELECT count(*) FROM "+tbl).Scan(&n)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42P01" {
				t.Errorf("%s: the rolled-back table: %d, %v", name, n, err)
			}
		}
	}
}
