package server_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestToolSQL runs on a 3-node cluster, on the leader and through a
// follower, the SQL tools send that SQLite has no word for: PREPARE and
// EXECUTE as statements (an EXECUTE of a write is replicated), division
// by zero failing alike on every node with nothing applied,
// generate_series loading rows, and SELECT *, expr keeping expr's type.
func TestToolSQL(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	setup := connect(t, c, c.Leader())
	mustExec(t, setup, "CREATE TABLE acc (aid INTEGER PRIMARY KEY, bid INTEGER, abalance INTEGER, filler TEXT)")
	mustExec(t, setup, "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)")

	// VALUES (DEFAULT, …) without a column list.
	mustExec(t, setup, "CREATE TABLE dflt (id INTEGER PRIMARY KEY, a INTEGER DEFAULT 7, b TEXT, c TEXT DEFAULT 'c')")
	for _, mode := range []string{"cache_statement", "simple_protocol"} {
		conn := connectMode(t, c, c.Follower(), mode)
		if _, err := conn.Exec(ctx, "INSERT INTO dflt VALUES (DEFAULT, DEFAULT, $1)", mode); err != nil {
			t.Fatalf("%s: INSERT … VALUES (DEFAULT, …): %v", mode, err)
		}
	}
	var sevens int
	if err := setup.QueryRow(ctx, "SELECT count(*) FROM dflt WHERE a = 7 AND c = 'c' AND b IS NOT NULL").Scan(&sevens); err != nil || sevens != 2 {
		t.Errorf("rows with their defaults: %d %v", sevens, err)
	}

	// pgbench -i -I G's statement.
	tag := mustExec(t, setup, "insert into acc(aid,bid,abalance,filler) select aid, (aid - 1) / 100 + 1, 0, '' from generate_series(1, 1000) as aid")
	if tag.RowsAffected() != 1000 {
		t.Fatalf("generate_series insert: %v", tag)
	}
	for _, node := range []int{c.Leader(), c.Follower()} {
		pc := connectMode(t, c, node, "simple_protocol").PgConn()
		exec := func(sql string) ([]*pgconn.Result, error) { return pc.Exec(ctx, sql).ReadAll() }

		// PREPARE, EXECUTE, DEALLOCATE.
		if _, err := exec("PREPARE ins (int, text) AS INSERT INTO kv (k, v) VALUES ($1, $2) RETURNING k"); err != nil {
			t.Fatalf("node %d: PREPARE: %v", node, err)
		}
		res, err := exec("EXECUTE ins(" + itoa(node) + ", 'n')")
		if err != nil || len(res) != 1 || len(res[0].Rows) != 1 || string(res[0].Rows[0][0]) != itoa(node) ||
			res[0].CommandTag.String() != "INSERT 0 1" {
			t.Fatalf("node %d: EXECUTE of an INSERT: %v %v", node, res, err)
		}
		if _, err := exec("PREPARE get AS SELECT v FROM kv WHERE k = $1"); err != nil {
			t.Fatal(err)
		}
		res, err = exec("EXECUTE get(" + itoa(node) + ")")
		if err != nil || len(res[0].Rows) != 1 || string(res[0].Rows[0][0]) != "n" {
			t.Errorf("node %d: EXECUTE of a SELECT: %v %v", node, res, err)
		}
		if _, err := exec("EXECUTE get"); sqlState(err) != "42601" {
			t.Errorf("node %d: EXECUTE without its argument: %v", node, err)
		}
		if _, err := exec("PREPARE get AS SELECT 1"); sqlState(err) != "42P05" {
			t.Errorf("node %d: PREPARE of a name taken: %v", node, err)
		}
		if _, err := exec("DEALLOCATE ALL"); err != nil {
			t.Fatal(err)
		}
		if _, err := exec("EXECUTE get(1)"); sqlState(err) != "26000" {
			t.Errorf("node %d: EXECUTE after DEALLOCATE ALL: %v", node, err)
		}

		// Division by zero.
		if _, err := exec("SELECT 1/0"); sqlState(err) != "22012" {
			t.Errorf("node %d: SELECT 1/0: %v", node, err)
		}
		if _, err := exec("UPDATE acc SET abalance = abalance + 1 / (aid - 500)"); sqlState(err) != "22012" {
			t.Errorf("node %d: UPDATE dividing by zero on one row: %v", node, err)
		}
		res, err = exec("SELECT 7/2, sum(abalance) FROM acc")
		if err != nil || string(res[0].Rows[0][0]) != "3" || string(res[0].Rows[0][1]) != "0" {
			t.Errorf("node %d: after the failed UPDATE: %v %v", node, res, err)
		}
		// SQLite's errors point where Postgres' would.
		var pe *pgconn.PgError
		if _, err := exec("SELECT aid FORM acc"); !errors.As(err, &pe) || pe.Code != "42601" || pe.Position != 17 ||
			pe.Message != `syntax error at or near "acc"` {
			t.Errorf("node %d: syntax error: %v", node, err)
		}
		if _, err := exec("SELECT aid, nope FROM acc"); !errors.As(err, &pe) || pe.Code != "42703" || pe.Position != 13 {
			t.Errorf("node %d: unknown column: %v", node, err)
		}
		if _, err := exec("SELECT * FROM generate_series(1, 3, 0)"); sqlState(err) != "22023" {
			t.Errorf("node %d: generate_series with a step of 0: %v", node, err)
		}
		// A schema other than public does not exist (SQLite: unknown
		// database).
		if _, err := exec(`CREATE TABLE "drizzle"."t" (a int)`); sqlState(err) != "3F000" {
			t.Errorf("node %d: a table in another schema: %v", node, err)
		}
	}

	// SELECT *, expr: the expression's type is in RowDescription.
	for _, mode := range []string{"cache_statement", "simple_protocol"} {
		conn := connectMode(t, c, c.Follower(), mode)
		rows, err := conn.Query(ctx, "SELECT *, bid::text, 1, 2.5 FROM acc WHERE aid = 1")
		if err != nil {
			t.Fatal(err)
		}
		var oids []uint32
		for _, f := range rows.FieldDescriptions() {
			oids = append(oids, f.DataTypeOID)
		}
		rows.Close()
		want := []uint32{20, 23, 23, 25, 25, 23, 1700}
		if len(oids) != len(want) {
			t.Fatalf("%s: %d columns", mode, len(oids))
		}
		for i := range want {
			if oids[i] != want[i] {
				t.Errorf("%s: column types %v, want %v", mode, oids, want)
				break
			}
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM generate_series(1, 10) g(i) WHERE i % 2 = 0", pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil || n != 5 {
			t.Errorf("%s: generate_series with a column alias: %d %v", mode, n, err)
		}
		// = ANY($1) with a slice, as pgx sends it.
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM acc WHERE aid = ANY($1)", []int64{1, 2, 3, 5000}).Scan(&n); err != nil || n != 3 {
			t.Errorf("%s: = ANY($1) of []int64: %d %v", mode, n, err)
		}
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM kv WHERE v = ANY($1)", []string{"n", "m"}).Scan(&n); err != nil || n != 2 {
			t.Errorf("%s: = ANY($1) of []string: %d %v", mode, n, err)
		}
	}
	// The functions on the connection, and the names Postgres gives them.
	for _, mode := range []string{"cache_statement", "simple_protocol"} {
		conn := connectMode(t, c, c.Follower(), mode)
		rows, err := conn.Query(ctx, "SELECT current_database(), current_schema(), pg_backend_pid(), has_table_privilege('acc', 'select'), to_char('2024-03-05 14:07:09'::timestamp, 'DD Mon YYYY')")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range rows.FieldDescriptions() {
			names = append(names, f.Name)
		}
		var db, schema, day string
		var pid int64
		var priv bool
		for rows.Next() {
			if err := rows.Scan(&db, &schema, &pid, &priv, &day); err != nil {
				t.Fatalf("%s: %v", mode, err)
			}
		}
		rows.Close()
		if want := []string{"current_database", "current_schema", "pg_backend_pid", "has_table_privilege", "to_char"}; !slices.Equal(names, want) {
			t.Errorf("%s: column names %q, want %q", mode, names, want)
		}
		if schema != "public" || pid != int64(conn.PgConn().PID()) || !priv || day != "05 Mar 2024" {
			t.Errorf("%s: %q %q %d %v %q", mode, db, schema, pid, priv, day)
		}
		var v string
		if err := conn.QueryRow(ctx, "SELECT current_setting('application_name')").Scan(&v); err != nil {
			t.Errorf("%s: current_setting: %v", mode, err)
		}
		rows, err = conn.Query(ctx, "SELECT current_setting('search_path'), current_setting('nope', true) IS NULL, 1")
		if err != nil {
			t.Fatal(err)
		}
		var isNull bool
		var one int
		for rows.Next() {
			if err := rows.Scan(&v, &isNull, &one); err != nil {
				t.Fatal(err)
			}
		}
		if f := rows.FieldDescriptions(); v == "" || !isNull || f[0].Name != "current_setting" {
			t.Errorf("%s: current_setting among other items: %q %v %q", mode, v, isNull, f[0].Name)
		}
		rows.Close()
		if _, err := conn.Exec(ctx, "SELECT current_setting('nope'), 1"); sqlState(err) != "42704" {
			t.Errorf("%s: current_setting of an unknown parameter: %v", mode, err)
		}
		if err := conn.QueryRow(ctx, "SELECT pg_sleep(0.01)").Scan(&v); err != nil {
			t.Errorf("%s: pg_sleep: %v", mode, err)
		}
		// now() is a timestamptz, as a driver scans one.
		var now, day0 time.Time
		if err := conn.QueryRow(ctx, "SELECT now(), current_date").Scan(&now, &day0); err != nil ||
			time.Since(now).Abs() > time.Hour || now.Sub(day0) < 0 || now.Sub(day0) > 24*time.Hour {
			t.Errorf("%s: now(), current_date: %v %v %v", mode, now, day0, err)
		}
	}
	// PREPARE and EXECUTE sent through the extended protocol (pgx
	// prepares every statement), inside a transaction block.
	{
		conn := connectMode(t, c, c.Follower(), "cache_statement")
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "PREPARE up (int) AS UPDATE kv SET v = 'x' || $1::text WHERE k = $1"); err != nil {
			t.Fatal(err)
		}
		if tag, err := tx.Exec(ctx, "EXECUTE up("+itoa(c.Leader())+")"); err != nil || tag.String() != "UPDATE 1" {
			t.Fatalf("EXECUTE of an UPDATE in a transaction: %v %v", tag, err)
		}
		var v string
		if err := tx.QueryRow(ctx, "PREPARE sel AS SELECT v FROM kv WHERE k = $1").Scan(); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		if err := tx.QueryRow(ctx, "EXECUTE sel($1)", c.Leader()).Scan(&v); err != nil || v != "x"+itoa(c.Leader()) {
			t.Errorf("EXECUTE with the EXECUTE's own parameter: %q %v", v, err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// pg_cancel_backend cancels another connection's statement.
	sleeper := connect(t, c, c.Leader())
	canceller := connect(t, c, c.Leader())
	done := make(chan error, 1)
	go func() {
		_, err := sleeper.Exec(ctx, "SELECT pg_sleep(60)", pgx.QueryExecModeSimpleProtocol)
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ok bool
		if err := canceller.QueryRow(ctx, "SELECT pg_cancel_backend("+strconv.Itoa(int(sleeper.PgConn().PID()))+")", pgx.QueryExecModeSimpleProtocol).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if sqlState(err) != "57014" {
				t.Errorf("the cancelled pg_sleep: %v", err)
			}
			goto cancelled
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("pg_cancel_backend did not cancel the pg_sleep")
		}
	}
cancelled:
	var n int
	if err := setup.QueryRow(ctx, "SELECT count(*) FROM kv").Scan(&n); err != nil || n != 2 {
		t.Errorf("rows EXECUTE inserted: %d, %v", n, err)
	}
	c.EnsureSame()
}

func itoa(i int) string { return strconv.Itoa(i) }
