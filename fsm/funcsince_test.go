package fsm

import (
	"context"
	"testing"
)

// TestFuncSince: Classify reports the highest Since of the Go functions a
// statement calls, directly or through what SQLite compiles with it, and
// in what a CREATE TABLE, CREATE INDEX or ALTER TABLE stores.
func TestFuncSince(t *testing.T) {
	newf := Func{Name: "NewF", NArgs: 1, Since: 5, Fn: func(a []any) (any, error) { return a[0], nil }}
	base := Func{Name: "basef", NArgs: 1, Fn: func(a []any) (any, error) { return a[0], nil }}
	f, err := Open(Config{Dir: t.TempDir(), ReadConns: 1, Funcs: []Func{newf, base}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	(&applier{f: f}).mustExec(t,
		"CREATE TABLE log(x)",
		"CREATE TABLE d(a, b DEFAULT (newf(1)))",
		"CREATE TABLE tt(a)",
		"CREATE TRIGGER tr AFTER INSERT ON tt BEGIN INSERT INTO log VALUES (newf(new.a)); END",
		"CREATE VIEW v AS SELECT newf(1) AS x")
	for _, c := range []struct {
		sql   string
		since int
	}{
		{"SELECT newf(1)", 5},
		{"INSERT INTO log VALUES (NEWF(1))", 5},
		{"INSERT INTO log VALUES (basef(1))", 0},
		{"INSERT INTO log VALUES (1)", 0},
		{"INSERT INTO d(a) VALUES (1)", 5},       // the column's DEFAULT
		{"INSERT INTO d(a, b) VALUES (1, 2)", 0}, // no DEFAULT evaluated
		{"INSERT INTO tt VALUES (1)", 5},         // the trigger
		{"INSERT INTO log SELECT x FROM v", 5},   // the view
		{"CREATE TABLE d2(a, b DEFAULT (newf(1)))", 5},
		{"CREATE TABLE g2(a, b AS (newf(a)))", 5},
		{"CREATE INDEX ix ON log(newf(x))", 5},
		{"CREATE INDEX ixp ON log(x) WHERE newf(x) > 0", 5},
		{"ALTER TABLE log ADD COLUMN y DEFAULT (newf(1))", 5},
	} {
		info, err := f.Classify(context.Background(), c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if info.FuncSince != c.since || (c.since > 0) != (info.Func == "newf") {
			t.Errorf("%s: FuncSince %d, Func %q; want %d", c.sql, info.FuncSince, info.Func, c.since)
		}
	}
}
