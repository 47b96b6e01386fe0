package fsm

import (
	"context"
	"strings"
	"testing"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm/command"
	sqlite3 "modernc.org/sqlite/lib"
)

const endless = "INSERT INTO slow(n) WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r) SELECT count(*) FROM r"

// TestStepBudgetStopsAnEndlessWrite checks that a write that never ends
// fails with the limit error of its command, that the node goes on
// applying, and that commands of format 1 (no budget) stay unbounded.
func TestStepBudgetStopsAnEndlessWrite(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE slow(n)")
	c := a.cmd(command.KindExecute, stmts("INSERT INTO slow VALUES (1)", endless)...)
	c.MaxSteps = 2_000_000
	r := a.applyCmd(t, c)
	e := r.Err()
	if e == nil || e.Code != command.CodeLimit || !strings.Contains(e.Message, "2000000") || !strings.Contains(e.Message, "--max-write-steps") {
		t.Fatalf("endless write: got %v, want the step budget error", e)
	}
	if len(r.Statements) != 2 || r.Statements[0].Err != nil {
		t.Fatalf("results: %+v", r.Statements)
	}
	// Rolled back, and the node applies the next entry.
	a.mustExec(t, "INSERT INTO slow VALUES (2)")
	if d := dump(t, f); !strings.Contains(d, "rows of slow: 1\n") {
		t.Errorf("after the endless write:\n%s", d)
	}
	// Without a budget (an entry of format 1) the same work completes.
	c = a.cmd(command.KindExecute, stmts("INSERT INTO slow(n) WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r LIMIT 200000) SELECT count(*) FROM r")...)
	if e := a.applyCmd(t, c).Err(); e != nil {
		t.Fatalf("unbudgeted: %v", e)
	}
	c.MaxSteps = 100_000
	if e := a.applyCmd(t, c).Err(); e == nil || e.Code != command.CodeLimit {
		t.Fatalf("the same with a budget of 100000: got %v", e)
	}
}

// TestStepBudgetIsTheSameEverywhere finds the smallest budget a statement
// fits in on a fresh state machine and checks that it is exactly the same
// on one whose connection has run the same statements, and statements of
// FTS5 tables, many times before: the budget does not depend on a node's
// history, its statement cache or when it started. Without a virtual
// table only the statement that runs is reset; the boundary holds too.
func TestStepBudgetIsTheSameEverywhere(t *testing.T) {
	t.Run("fts5", func(t *testing.T) {
		budgetEverywhere(t, []string{
			"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
			"CREATE VIRTUAL TABLE docs USING fts5(body)",
		}, stmts(
			"INSERT INTO t(v) WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r LIMIT 300) SELECT 'x' || i FROM r",
			"INSERT INTO docs(body) SELECT v || ' word' FROM t WHERE id % 7 = 0",
			"UPDATE t SET v = v || 'y' WHERE id IN (SELECT rowid FROM docs WHERE docs MATCH 'word')",
		))
	})
	t.Run("tables", func(t *testing.T) {
		budgetEverywhere(t, []string{
			"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
			"CREATE TABLE u(id INTEGER PRIMARY KEY, v TEXT)",
			"CREATE TRIGGER tu AFTER INSERT ON t BEGIN INSERT INTO u(v) VALUES (new.v || 'z'); END",
		}, stmts(
			"INSERT INTO t(v) WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r LIMIT 300) SELECT 'x' || i FROM r",
			"UPDATE u SET v = v || 'y' WHERE id % 3 = 0",
			"UPDATE t SET v = v || 'y' WHERE id IN (SELECT id FROM u WHERE v LIKE '%5%')",
		))
	})
}

func budgetEverywhere(t *testing.T, schema []string, work []command.Statement) {
	fresh := func() (*FSM, *applier) {
		f := openTest(t)
		a := &applier{f: f}
		a.mustExec(t, schema...)
		return f, a
	}
	// fits reports whether work fits in budget on a.
	fits := func(a *applier, budget int64) bool {
		c := a.cmd(command.KindExecute, work...)
		c.MaxSteps = budget
		// Run it and undo it, so that the data stays the same.
		c.Statements = append(c.Statements, command.Statement{SQL: "SELECT raise_error()"})
		r := a.applyCmd(t, c)
		e := r.Err()
		if e != nil && e.Code == command.CodeLimit {
			return false
		}
		if len(r.Statements) != len(work)+1 {
			t.Fatalf("budget %d: %+v", budget, r.Statements)
		}
		return true
	}
	_, a := fresh()
	lo, hi := int64(1000), int64(50_000_000)
	if !fits(a, hi) {
		t.Fatal("the work does not fit in 50 million steps")
	}
	for hi-lo > progressOps {
		mid := (lo + hi) / 2
		if fits(a, mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	t.Logf("the work fits in %d steps, not in %d", hi, lo)
	// hi fits, lo does not, on a state machine whose statements have run
	// many times by now. A fresh one agrees.
	_, b := fresh()
	if !fits(b, hi) {
		t.Errorf("fresh state machine: %d steps do not fit", hi)
	}
	_, b = fresh()
	if fits(b, lo) {
		t.Errorf("fresh state machine: %d steps fit", lo)
	}
	for range 3 {
		if !fits(a, hi) || fits(a, lo) {
			t.Fatalf("the boundary moved on the state machine that ran the work before")
		}
	}
}

// TestStepBudgetInABatch checks that a write stopped by its budget, which
// SQLite answers by rolling back the whole transaction, leaves the batch's
// other commands as they would be applied one by one.
func TestStepBudgetInABatch(t *testing.T) {
	build := func(a *applier) []*hraft.Log {
		var logs []*hraft.Log
		for _, sql := range []string{"INSERT INTO slow VALUES (1)", endless, "INSERT INTO slow VALUES (3)"} {
			c := a.cmd(command.KindExecute, stmts(sql)...)
			c.MaxSteps = 1_000_000
			logs = append(logs, a.log(c))
		}
		return logs
	}
	one := openTest(t)
	a1 := &applier{f: one}
	a1.mustExec(t, "CREATE TABLE slow(n)")
	var want []byte
	for _, l := range build(a1) {
		want = append(want, encodeResponse(t, one.Apply(l))...)
	}
	batch := openTest(t)
	a2 := &applier{f: batch}
	a2.mustExec(t, "CREATE TABLE slow(n)")
	var got []byte
	for _, r := range batch.ApplyBatch(build(a2)) {
		got = append(got, encodeResponse(t, r)...)
	}
	if string(got) != string(want) {
		t.Errorf("batch results differ from one by one")
	}
	if d1, d2 := dump(t, one), dump(t, batch); d1 != d2 || !strings.Contains(d1, "rows of slow: 2\n") {
		t.Errorf("one by one:\n%s\nbatch:\n%s", d1, d2)
	}
}

// TestStepBudgetOfATransaction checks that the leader's speculative run of
// a transaction block has the budget its command will have, all its
// statements together.
func TestStepBudgetOfATransaction(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE slow(n)")
	ctx := context.Background()
	wt, err := f.BeginWrite(ctx, &command.Command{TimeUnixNano: testTime, Seed: 1, MaxSteps: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	defer wt.Rollback()
	if sr := wt.Exec(ctx, command.Statement{SQL: "INSERT INTO slow VALUES (1)"}); sr.Err != nil {
		t.Fatal(sr.Err)
	}
	sr := wt.Exec(ctx, command.Statement{SQL: endless})
	if sr.Err == nil || sr.Err.Code != command.CodeLimit {
		t.Fatalf("endless statement in a transaction: got %v", sr.Err)
	}
}

// TestValueSizeLimit checks that the value size a command carries bounds
// what its statements make and bind, before memory is spent on it, with an
// error naming the limit; and that reads have a limit of their own.
func TestValueSizeLimit(t *testing.T) {
	f, err := Open(Config{Dir: t.TempDir(), ReadConns: 1, MaxReadValueSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(v)")
	const limit = 1 << 20
	for name, st := range map[string]command.Statement{
		"randomblob":     {SQL: "INSERT INTO t SELECT randomblob(500000000)"},
		"zeroblob":       {SQL: "INSERT INTO t VALUES (zeroblob(2000000))"},
		"printf":         {SQL: "INSERT INTO t VALUES (printf('%.*c', 2000000, 'x'))"},
		"parameter":      {SQL: "INSERT INTO t VALUES ($1)", Params: []command.Value{command.Blob(make([]byte, limit+1))}},
		"statement text": {SQL: "INSERT INTO t VALUES ('" + strings.Repeat("x", limit) + "')"},
	} {
		c := a.cmd(command.KindExecute, st)
		c.MaxValueSize = limit
		e := a.applyCmd(t, c).Err()
		if e == nil || e.Code&0xff != sqlite3.SQLITE_TOOBIG || !strings.Contains(e.Message, "--max-value-size") {
			t.Errorf("%s: got %v, want a too-big error naming the limit", name, e)
		}
	}
	c := a.cmd(command.KindExecute, stmts("INSERT INTO t VALUES (randomblob(1000))")...)
	c.MaxValueSize = limit
	if e := a.applyCmd(t, c).Err(); e != nil {
		t.Fatalf("a small value: %v", e)
	}
	// A command of format 1 has SQLite's own limit.
	a.mustExec(t, "INSERT INTO t VALUES (zeroblob(2000000))")

	q, err := f.Query(context.Background(), stmts("SELECT randomblob(2000000)"))
	if err != nil {
		t.Fatal(err)
	}
	if e := q.Err(); e == nil || e.Code&0xff != sqlite3.SQLITE_TOOBIG {
		t.Errorf("read over the read limit: got %v", e)
	}
	q, err = f.Query(context.Background(), stmts("SELECT length(randomblob(1000)), random() != random()"))
	if err != nil || q.Err() != nil {
		t.Fatalf("small read: %v %v", err, q.Err())
	}
}
