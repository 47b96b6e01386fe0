package server_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestUntypedBooleanParams: a parameter that comes untyped (node-postgres
// sends every parameter so; pgx a Go bool when the statement's parameter
// is not known to be boolean) and is stored in or compared with a BOOLEAN
// column is a boolean, as Postgres infers it from the column: stored as
// one, by INSERT, UPDATE and SQL PREPARE/EXECUTE, inside a transaction
// block too, so that WHERE flag and WHERE NOT flag give Postgres'
// answers on every node.
func TestUntypedBooleanParams(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	leader, follower := c.Leader(), c.Follower()
	lc, fc := connect(t, c, leader), connect(t, c, follower)
	mustExec(t, lc, "CREATE TABLE flags (id INTEGER PRIMARY KEY, flag BOOLEAN, note TEXT)")

	// untyped runs sql with text parameters of no declared type.
	untyped := func(node int, sql string, args ...string) *pgconn.ResultReader {
		t.Helper()
		conn := fc
		if node == leader {
			conn = lc
		}
		params := make([][]byte, len(args))
		for i, a := range args {
			params[i] = []byte(a)
		}
		return conn.PgConn().ExecParams(ctx, sql, params, nil, nil, nil)
	}
	mustUntyped := func(node int, sql string, args ...string) {
		t.Helper()
		if _, err := untyped(node, sql, args...).Close(); err != nil {
			t.Fatalf("node %d: %s %q: %v", node, sql, args, err)
		}
	}

	// pgx, default mode: a Go bool (and a string, sent as text).
	mustExec(t, lc, "INSERT INTO flags (id, flag) VALUES ($1, $2)", 1, true)
	mustExec(t, fc, "INSERT INTO flags (id, flag) VALUES ($1, $2)", 2, false)
	mustExec(t, lc, "INSERT INTO flags (id, flag, note) VALUES ($1, $2, $3)", 5, "yes", "true")
	// Untyped text, as node-postgres sends it.
	mustUntyped(leader, "INSERT INTO flags (id, flag) VALUES (3, $1)", "true")
	mustUntyped(follower, "INSERT INTO flags (id, flag) VALUES (4, $1), (6, $2)", "f", "false")
	mustUntyped(follower, "UPDATE flags SET flag = $1 WHERE id = $2", "on", "6")
	mustExec(t, lc, "UPDATE flags SET flag = $1 WHERE id = $2", false, 1)
	// SQL PREPARE: EXECUTE's argument is the column's type too.
	mustExec(t, fc, "PREPARE ins AS INSERT INTO flags (id, flag) VALUES (7, $1)")
	mustExec(t, fc, "EXECUTE ins('t')")
	// In a transaction block, on a table the committed schema has.
	tx, err := fc.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO flags (id, flag) VALUES ($1, $2)", 8, false); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	// Text that is no boolean is refused, as Postgres refuses it.
	var pe *pgconn.PgError
	if _, err := untyped(leader, "INSERT INTO flags (id, flag) VALUES (9, $1)", "maybe").Close(); !errors.As(err, &pe) || pe.Code != "22P02" {
		t.Errorf("untyped 'maybe' into a BOOLEAN column: %v, want 22P02", err)
		mustExec(t, lc, "DELETE FROM flags WHERE id = 9")
	}

	c.EnsureSame()
	for i := 0; i < c.Size(); i++ {
		conn := connect(t, c, i)
		for sql, want := range map[string]int64{
			"SELECT count(*) FROM flags WHERE flag":                        4,
			"SELECT count(*) FROM flags WHERE NOT flag":                    4,
			"SELECT count(*) FROM flags WHERE flag AND id IN (3, 5, 6, 7)": 4,
			"SELECT count(*) FROM flags WHERE typeof(flag) <> 'integer'":   0,
			"SELECT count(*) FROM flags WHERE note = 'true' AND id = 5":    1, // text stays text
		} {
			if got := count(t, conn, sql); got != want {
				t.Errorf("node %d: %s = %d, want %d", i, sql, got, want)
			}
		}
		if got := count(t, conn, "SELECT count(*) FROM flags WHERE flag = $1", false); got != 4 {
			t.Errorf("node %d: WHERE flag = false (pgx) counts %d, want 4", i, got)
		}
		res := untyped(i, "SELECT count(*) FROM flags WHERE $1 = flag AND id > $2", "true", "4").Read()
		if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != "3" {
			t.Errorf("node %d: WHERE 'true' = flag AND id > 4 (untyped): %q %v, want 3", i, res.Rows, res.Err)
		}
	}
	var got []string
	rows, err := lc.Query(ctx, "SELECT id, flag FROM flags ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var flag bool
		if err := rows.Scan(&id, &flag); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%v", id, flag))
	}
	if fmt.Sprint(got) != "[1:false 2:false 3:true 4:false 5:true 6:true 7:true 8:false]" {
		t.Errorf("rows %v", got)
	}
}
