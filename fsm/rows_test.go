package fsm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/raftsql/raftsql/fsm/command"
)

const endlessRows = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"

// TestQueryRowsSteps: rows come one at a time from one snapshot, a write
// applied meanwhile is not seen, the columns are known before the first
// row, and Close gives the connection back.
func TestQueryRowsSteps(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", "INSERT INTO t (v) VALUES ('a'), ('b'), ('c')")
	ctx := context.Background()
	r, err := f.QueryRows(ctx, command.Statement{SQL: "SELECT id, v FROM t ORDER BY id"})
	if err != nil {
		t.Fatal(err)
	}
	if cols := r.Columns(); len(cols) != 2 || cols[0].Name != "id" || cols[0].DeclType != rowidAliasDeclType || cols[1].DeclType != "TEXT" {
		t.Fatalf("columns %+v", cols)
	}
	if idle := f.IdleReadConns(); idle != 1 {
		t.Fatalf("%d idle read connections while the rows are open, want 1", idle)
	}
	row, err := r.Next(ctx)
	if err != nil || row[1].Text != "a" {
		t.Fatalf("first row %v, %v", row, err)
	}
	a.mustExec(t, "INSERT INTO t (v) VALUES ('d')")
	var got []string
	for {
		// Each call with a context of its own, which ends after it, as a
		// portal's Executes do: the end of one must not fail the next.
		cctx, cancel := context.WithCancel(ctx)
		row, err := r.Next(cctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if row == nil {
			break
		}
		got = append(got, row[1].Text)
	}
	if strings.Join(got, "") != "bc" {
		t.Fatalf("rows %q: the snapshot moved", got)
	}
	r.Close()
	r.Close()
	if idle := f.IdleReadConns(); idle != 2 {
		t.Fatalf("%d idle read connections after Close, want 2", idle)
	}
}

// TestQueryRowsErrors: SQL errors, writes and refusals are *command.Error
// values, before or during the rows.
func TestQueryRowsErrors(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t (x)")
	ctx := context.Background()
	for sql, code := range map[string]int{
		"SELECT * FROM nope":       1,
		"INSERT INTO t VALUES (1)": command.CodeReadOnly,
		"BEGIN":                    command.CodeRefused,
	} {
		_, err := f.QueryRows(ctx, command.Statement{SQL: sql})
		var ce *command.Error
		if !errors.As(err, &ce) || ce.Code&0xff != code&0xff {
			t.Errorf("%s: %v, want code %d", sql, err, code)
		}
	}
	// An error after some rows: abs() of the smallest integer overflows.
	r, err := f.QueryRows(ctx, command.Statement{SQL: "SELECT abs(x) FROM (SELECT 1 AS x UNION ALL SELECT -9223372036854775808)"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if row, err := r.Next(ctx); err != nil || row[0].Int != 1 {
		t.Fatalf("first row %v, %v", row, err)
	}
	var ce *command.Error
	if _, err := r.Next(ctx); !errors.As(err, &ce) {
		t.Fatalf("second row: %v, want a SQL error", err)
	}
	if f.IdleReadConns() != 1 {
		t.Fatal("the failed rows gave their connection back before Close")
	}
}

// TestQueryRowsCancel: a context that ends while the statement steps
// interrupts it.
func TestQueryRowsCancel(t *testing.T) {
	f := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := f.QueryRows(ctx, command.Statement{SQL: "SELECT count(*) FROM (" + endlessRows + ")"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := r.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
