package fsm

import (
	"context"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
)

// TestConnInit: the functions and the temporary views of Config reach
// every read connection, read the database as it is now, and leave the
// database itself unchanged.
func TestConnInit(t *testing.T) {
	f, err := Open(Config{Dir: t.TempDir(), ReadConns: 2,
		Funcs: []Func{{Name: "twice", NArgs: 1, Fn: func(a []any) (any, error) {
			if n, ok := a[0].(int64); ok {
				return n * 2, nil
			}
			return a[0], nil
		}}},
		ConnInit: []string{"CREATE TEMP VIEW table_names AS SELECT name, twice(length(name)) AS n FROM main.sqlite_schema WHERE type = 'table'"}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	(&applier{f: f}).mustExec(t, "CREATE TABLE fruit (id INTEGER PRIMARY KEY)")
	for range 4 { // every read connection
		res, err := f.Query(context.Background(), []command.Statement{{SQL: "SELECT name, n, twice('x') FROM table_names"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := res.Err(); err != nil {
			t.Fatal(err)
		}
		rows := res.Statements[0].Rows
		if len(rows) != 1 || rows[0][0].String() != "fruit" || rows[0][1].String() != "10" || rows[0][2].String() != "x" {
			t.Fatalf("rows = %v", rows)
		}
	}
}
