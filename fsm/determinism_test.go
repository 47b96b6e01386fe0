package fsm

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
)

// rowidWorkload takes the largest rowid, so that SQLite picks new ones from
// its generator, and makes it unique-ify column names.
var rowidWorkload = [][]string{
	{"CREATE TABLE big(id INTEGER PRIMARY KEY, v)"},
	{"INSERT INTO big VALUES (9223372036854775807, 'max')"},
	{"INSERT INTO big(v) VALUES ('r1')"},
	{"INSERT INTO big(v) VALUES ('r2'), ('r3')", "INSERT INTO big(v) SELECT 'r' || v FROM big"},
	{"CREATE TABLE dup AS SELECT 1 a, 2 a, 3 a, 4 a, 5 a, 6 a, 7 a"},
}

// TestSQLiteGeneratorFollowsTheSeed applies the same entries on two state
// machines, while other connections of the process compile statements that
// make SQLite draw from its generator and call random(), and checks that
// both store the same rowids and column names.
func TestSQLiteGeneratorFollowsTheSeed(t *testing.T) {
	f1, f2 := openTest(t), openTest(t)
	a1, a2 := &applier{f: f1}, &applier{f: f2}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, f := range []*FSM{f1, f2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				// A new text each time, so that it is compiled each time.
				sql := fmt.Sprintf("SELECT * FROM (SELECT %d a, 1 a, 1 a, 1 a, 1 a, 1 a, random() a, randomblob(8) a)", i)
				if _, err := f.Query(context.Background(), stmts(sql)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for _, sqls := range rowidWorkload {
		a1.mustExec(t, sqls...)
		a2.mustExec(t, sqls...)
	}
	stop.Store(true)
	wg.Wait()
	if d1, d2 := dump(t, f1), dump(t, f2); d1 != d2 {
		t.Fatalf("the state machines differ:\n%s\n---\n%s", d1, d2)
	}
}

// TestSpeculationDrawsWhatApplyDraws checks that a transaction block run
// speculatively sees the rowids and random values its entry stores, also
// when a statement in between failed and was rolled back to a savepoint.
func TestSpeculationDrawsWhatApplyDraws(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE big(id INTEGER PRIMARY KEY, v, r)", "INSERT INTO big VALUES (9223372036854775807, 'max', 0)")
	ctx := context.Background()
	c := a.cmd(command.KindExecute)
	wt, err := f.BeginWrite(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var seen [][]command.Value
	for _, sql := range []string{
		"INSERT INTO big(v, r) VALUES ('a', random()) RETURNING id, r",
		"SAVEPOINT s",
		"INSERT INTO big(v, r) VALUES ('bad', random()), ('bad', random()) RETURNING id, r, nope",
		"INSERT INTO big(id, v, r) VALUES (9223372036854775807, 'dup', random())",
		"ROLLBACK TO s",
		"INSERT INTO big(v, r) VALUES ('b', random()) RETURNING id, r",
	} {
		st := command.Statement{SQL: sql}
		sr := wt.Exec(ctx, st)
		if sr.Err != nil {
			continue // not part of the entry, as the server does
		}
		c.Statements = append(c.Statements, st)
		seen = append(seen, sr.Rows...)
	}
	if err := wt.Rollback(); err != nil {
		t.Fatal(err)
	}
	r := a.applyCmd(t, c)
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	var stored [][]command.Value
	for _, sr := range r.Statements {
		stored = append(stored, sr.Rows...)
	}
	if fmt.Sprint(seen) != fmt.Sprint(stored) || len(seen) != 2 {
		t.Errorf("speculation saw %v, the entry stored %v", seen, stored)
	}
}

// TestReadsReportForeignKeys checks that PRAGMA foreign_keys reads as the
// setting writes are made with.
func TestReadsReportForeignKeys(t *testing.T) {
	f := openTest(t)
	for range 3 {
		q, err := f.Query(context.Background(), stmts("PRAGMA foreign_keys"))
		if err != nil || q.Err() != nil {
			t.Fatal(err, q.Err())
		}
		if got := q.Statements[0].Rows[0][0]; !got.Equal(command.Int(1)) {
			t.Fatalf("PRAGMA foreign_keys on a read connection: %v, want 1", got)
		}
	}
}

// TestReadsSeeTheNewSchemaOnEveryConnection drops and creates a table with
// other columns and checks that every read connection compiles statements,
// old and new, against the new definition.
func TestReadsSeeTheNewSchemaOnEveryConnection(t *testing.T) {
	f := openTest(t) // two read connections
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t1(a, b, c)", "INSERT INTO t1 VALUES (1, 2, 3)")
	ctx := context.Background()
	query := func(sql string) *command.Result {
		t.Helper()
		q, err := f.Query(ctx, stmts(sql))
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	// Every connection compiles and caches statements on the old schema.
	for range 4 {
		query("SELECT * FROM t1")
		query("SELECT count(*) FROM t1 WHERE c = 3")
	}
	a.mustExec(t, "DROP TABLE t1", "CREATE TABLE t1(x)", "INSERT INTO t1 VALUES (1)")
	for i := range 4 {
		if q := query("SELECT 1 IN t1"); q.Err() != nil || !q.Statements[0].Rows[0][0].Equal(command.Int(1)) {
			t.Fatalf("read %d: SELECT 1 IN t1: %v %v", i, q.Err(), q.Statements)
		}
		if q := query("SELECT * FROM t1"); q.Err() != nil || len(q.Statements[0].Columns) != 1 {
			t.Fatalf("read %d: SELECT * FROM t1: %v %v", i, q.Err(), q.Statements[0].Columns)
		}
		if q := query("SELECT count(*) FROM t1 WHERE c = 3"); q.Err() == nil {
			t.Fatalf("read %d: a column of the dropped table still compiles", i)
		}
	}
	tx, err := f.BeginRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if q, err := tx.Query(ctx, stmts("SELECT 1 IN t1")); err != nil || q.Err() != nil {
		t.Fatalf("read transaction: %v %v", err, q.Err())
	}
}

// TestRowidsAfterASpillAgree makes one state machine's WAL fully
// checkpointed and another's not (a reader held the checkpoint back), then
// applies a statement that spills its cache to the WAL and then picks
// rowids at random: starting the WAL over draws from SQLite's generator,
// and must not do so in the middle of the statement on one node only.
func TestRowidsAfterASpillAgree(t *testing.T) {
	ctx := context.Background()
	run := func(holdReader bool) string {
		f := openTest(t)
		a := &applier{f: f}
		a.mustExec(t, "CREATE TABLE big(id INTEGER PRIMARY KEY, v)", "CREATE TABLE fill(v)")
		var tx *ReadTx
		if holdReader {
			var err error
			if tx, err = f.BeginRead(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Query(ctx, stmts("SELECT count(*) FROM big")); err != nil {
				t.Fatal(err)
			}
		}
		// More frames than autoCheckpointPage: the commit checkpoints.
		a.mustExec(t, "INSERT INTO fill WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r LIMIT 1500) SELECT zeroblob(3000) FROM r")
		if tx != nil {
			tx.Close()
		}
		a.mustExec(t, "INSERT INTO big VALUES (9223372036854775807, 'max')")
		// Random rowids, and dirty pages beyond the cache (2 MB) that
		// spill to the WAL on the way.
		a.mustExec(t, "INSERT INTO big(v) WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r LIMIT 3000) SELECT zeroblob(2000) FROM r")
		return dump(t, f)
	}
	if d1, d2 := run(false), run(true); d1 != d2 {
		t.Fatalf("rowids depend on the node's checkpoints")
	}
}

// TestWritesCannotStoreTheBuild checks that what describes the node's
// SQLite build, which may differ between nodes during an upgrade, can be
// read but not written.
func TestWritesCannotStoreTheBuild(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(v)")
	for _, sql := range []string{
		"INSERT INTO t VALUES (sqlite_version())",
		"INSERT INTO t VALUES (sqlite_source_id())",
		"INSERT INTO t SELECT sqlite_compileoption_get(0)",
		"INSERT INTO t SELECT * FROM pragma_compile_options",
		"INSERT INTO t SELECT name FROM pragma_function_list",
		"PRAGMA compile_options",
	} {
		if e := a.exec(t, sql).Err(); e == nil || e.Code != command.CodeRefused {
			t.Errorf("%s: got %v, want refused", sql, e)
		}
		if _, err := f.Classify(context.Background(), sql); err != nil && sql[0] == 'P' {
			t.Errorf("classify %s: %v", sql, err)
		}
	}
	q, err := f.Query(context.Background(), stmts("SELECT sqlite_version()", "PRAGMA compile_options"))
	if err != nil || q.Err() != nil {
		t.Fatalf("reads: %v %v", err, q.Err())
	}
}
