package fsm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
)

// counterFuncs are write functions over a table of counters: bump(name)
// adds one and returns it, and remembers it for last(name).
func counterFuncs() []Func {
	bump := Func{Name: "bump", NArgs: 1, Write: func(tx FuncTx, args []any) (any, error) {
		rows, err := tx.Query("UPDATE ctr SET v = v + 1 WHERE name = $1 RETURNING v", args[0])
		if err != nil {
			return nil, err
		}
		if len(rows) != 1 {
			return nil, fmt.Errorf("no counter %v", args[0])
		}
		tx.Memo()[fmt.Sprint(args[0])] = rows[0][0]
		return rows[0][0], nil
	}}
	last := Func{Name: "last", NArgs: 1, Write: func(tx FuncTx, args []any) (any, error) {
		v, ok := tx.Memo()[fmt.Sprint(args[0])]
		if !ok {
			return nil, errors.New("no value yet in this command")
		}
		return v, nil
	}}
	// peek is last on the write connection and 0 elsewhere: it only reads.
	peek := Func{Name: "peek", NArgs: 1, Fn: func([]any) (any, error) { return int64(0), nil }, Write: last.Write}
	return []Func{bump, last, peek}
}

// TestWriteFuncs: a write function runs once per call, in column DEFAULTs
// and per row of INSERT … SELECT, its writes are part of the command, a
// statement that calls it is a write, and a read refuses it.
func TestWriteFuncs(t *testing.T) {
	f, err := Open(Config{Dir: t.TempDir(), ReadConns: 1, Funcs: counterFuncs(),
		OnFatal: func(err error) { t.Errorf("fatal: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE ctr (name TEXT PRIMARY KEY, v INTEGER NOT NULL)", "INSERT INTO ctr VALUES ('a', 0)",
		"CREATE TABLE t (id INTEGER DEFAULT (bump('a')) NOT NULL, x INTEGER)", "CREATE TABLE u (id INTEGER PRIMARY KEY)")
	a.mustExec(t, "INSERT INTO t (x) VALUES (1), (2)",
		"INSERT INTO t SELECT bump('a'), n FROM (WITH RECURSIVE r(n) AS (SELECT 10 UNION ALL SELECT n + 1 FROM r WHERE n < 12) SELECT n FROM r)",
		"INSERT INTO t VALUES (bump('a') * 100, last('a'))")
	r := a.exec(t, "SELECT bump('a'), last('a')")
	if e := r.Err(); e != nil || r.Statements[0].Rows[0][0].Int != 7 || r.Statements[0].Rows[0][1].Int != 7 {
		t.Fatalf("SELECT bump: %v %s", e, describe(r))
	}
	if r := a.exec(t, "SELECT last('a')"); r.Err() == nil || !strings.Contains(r.Err().Message, "no value yet") {
		t.Errorf("the memo outlived its command: %s", describe(r))
	}
	res, err := f.Query(context.Background(), stmts("SELECT group_concat(id || ':' || x, ' ') FROM (SELECT * FROM t ORDER BY rowid)", "SELECT v FROM ctr"))
	if err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	if got := res.Statements[0].Rows[0][0].Text; got != "1:1 2:2 3:10 4:11 5:12 600:6" {
		t.Errorf("rows %q", got)
	}
	if got := res.Statements[1].Rows[0][0].Int; got != 7 {
		t.Errorf("counter %d, want 7", got)
	}
	info, err := f.Classify(context.Background(), "SELECT bump('a')")
	if err != nil || info.ReadOnly {
		t.Errorf("Classify: %+v %v, want a write", info, err)
	}
	if res, err := f.Query(context.Background(), stmts("SELECT bump('a')")); err == nil && res.Err() == nil {
		t.Errorf("a read ran a write function: %s", describe(res))
	}
	// A function with a read side is no write, and reads run that side.
	if info, err := f.Classify(context.Background(), "SELECT peek('a')"); err != nil || !info.ReadOnly {
		t.Errorf("Classify of a reading function: %+v %v", info, err)
	}
	if res, err := f.Query(context.Background(), stmts("SELECT peek('a')")); err != nil || res.Err() != nil || res.Statements[0].Rows[0][0].Int != 0 {
		t.Errorf("a read of a reading function: %v %s", err, describe(res))
	}
	if r := a.exec(t, "SELECT bump('a') - 7, peek('a')"); r.Err() != nil || r.Statements[0].Rows[0][1].Int != 8 {
		t.Errorf("the write side of a reading function: %s", describe(r))
	}
	// A command that fails takes back what its write functions wrote.
	a.exec(t, "INSERT INTO u VALUES (1)")
	if r := a.exec(t, "INSERT INTO u VALUES (bump('a') - 8)"); r.Err() == nil {
		t.Fatal("a duplicate key was inserted")
	}
	res, _ = f.Query(context.Background(), stmts("SELECT v FROM ctr"))
	if got := res.Statements[0].Rows[0][0].Int; got != 8 {
		t.Errorf("counter after a failed INSERT: %d, want 8", got)
	}
}

// TestWriteFuncSpeculation: a transaction that calls a write function
// sees, speculatively, exactly what applying it stores, a failed
// statement's memo included.
func TestWriteFuncSpeculation(t *testing.T) {
	f, err := Open(Config{Dir: t.TempDir(), ReadConns: 1, Funcs: counterFuncs(),
		OnFatal: func(err error) { t.Errorf("fatal: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE ctr (name TEXT PRIMARY KEY, v INTEGER NOT NULL)", "INSERT INTO ctr VALUES ('a', 0)",
		"CREATE TABLE t (id INTEGER DEFAULT (bump('a')), x INTEGER)")
	ctx := context.Background()
	before := dump(t, f)
	c := a.cmd(command.KindExecute, stmts("INSERT INTO t (x) VALUES (1), (2) RETURNING id", "SELECT last('a'), bump('a')",
		"INSERT INTO t VALUES (bump('a'), last('a')) RETURNING id, x")...)
	wt, err := f.BeginWrite(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, st := range c.Statements {
		sr := wt.Exec(ctx, st)
		if sr.Err != nil {
			t.Fatalf("%s: %v", st.SQL, sr.Err)
		}
		seen = append(seen, fmt.Sprint(sr.Rows))
	}
	if err := wt.Rollback(); err != nil {
		t.Fatal(err)
	}
	if after := dump(t, f); after != before {
		t.Fatalf("the speculation left changes:\n%s", after)
	}
	res := a.applyCmd(t, c)
	if e := res.Err(); e != nil {
		t.Fatal(e)
	}
	for i, sr := range res.Statements {
		if got := fmt.Sprint(sr.Rows); got != seen[i] {
			t.Errorf("statement %d: applied %s, speculation saw %s", i, got, seen[i])
		}
	}
	if want := "[[[1] [2]] [[2 3]] [[4 4]]]"; fmt.Sprint(seen) != want {
		t.Errorf("speculation saw %v, want %s", seen, want)
	}
}
