package fsm

import (
	"context"
	"strings"
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

// TestMissingFuncFor: a schema statement is judged as a node that lacks
// the functions above a version would run it, and use what it stores.
func TestMissingFuncFor(t *testing.T) {
	newf := Func{Name: "newf", NArgs: 1, Since: 5, Fn: func(a []any) (any, error) { return a[0], nil }}
	f, err := Open(Config{Dir: t.TempDir(), ReadConns: 1, Funcs: []Func{newf}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	(&applier{f: f}).mustExec(t, "CREATE TABLE t(a, b)", "CREATE VIEW tv AS SELECT a FROM t")
	for _, c := range []struct {
		sql     string
		missing bool
	}{
		{"CREATE TABLE c(a CHECK (newf(a) > 0))", true},
		{"CREATE TABLE g(a, b AS (newf(a)))", true},
		{"CREATE TABLE d(a DEFAULT (newf(1)))", true},
		{"CREATE VIEW v AS SELECT newf(1) AS x", true},
		{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT newf(new.a); END", true},
		{"CREATE TRIGGER tu AFTER UPDATE OF b ON t BEGIN SELECT newf(new.a); END", true},
		{"CREATE TRIGGER td BEFORE DELETE ON t WHEN newf(old.a) BEGIN SELECT 1; END", true},
		{"CREATE TRIGGER ti INSTEAD OF INSERT ON tv BEGIN SELECT newf(new.a); END", true},
		{"CREATE INDEX i ON t(newf(a))", true},
		{"ALTER TABLE t ADD COLUMN c DEFAULT (newf(1))", true},
		{"CREATE TABLE plain(a DEFAULT (abs(-1)) CHECK (a > 0))", false},
		{"CREATE TRIGGER tp AFTER INSERT ON t BEGIN SELECT abs(new.a); END", false},
		{"CREATE VIEW pv AS SELECT a FROM tv", false},
		{"CREATE INDEX ip ON t(a)", false},
		{"CREATE TABLE later(a REFERENCES not_yet(a))", false},
		// Several statements: each is judged on the schema the ones
		// before made.
		{"CREATE TABLE nb(a) ;; INSERT INTO nb VALUES (newf(1))", true},
		{"CREATE TABLE nb(a) ;; CREATE VIEW nv AS SELECT newf(a) FROM nb", true},
		{"CREATE TABLE nb(a DEFAULT (newf(1)), b) ;; INSERT INTO nb(b) VALUES (1)", true},
		{"CREATE TABLE nb(a) ;; INSERT INTO nb VALUES (abs(1)) ;; SELECT a FROM nb", false},
		{"INSERT INTO t VALUES (1, 2) ;; UPDATE t SET b = newf(b) WHERE a = 1", true},
	} {
		for _, upTo := range []int{4, 5} {
			name, since, err := f.MissingFuncFor(context.Background(), strings.Split(c.sql, " ;; "), upTo)
			if err != nil {
				t.Fatalf("%s: %v", c.sql, err)
			}
			want := c.missing && upTo < 5
			if (name == "newf" && since == 5) != want || (!want && name != "") {
				t.Errorf("%s up to %d: missing %q (%d), want missing: %v", c.sql, upTo, name, since, want)
			}
		}
	}
}
