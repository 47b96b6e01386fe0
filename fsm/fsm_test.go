package fsm

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/snapshot"
)

func TestApplyResultShapes(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, at DATETIME, d DATE, ts TIMESTAMP, ok BOOLEAN, f REAL, b BLOB)")
	c := a.cmd(command.KindExecute,
		command.Statement{SQL: "INSERT INTO t(name, at, d, ts, ok, f, b) VALUES ($1, $2, $3, $4, $5, $6, $7)", Params: []command.Value{
			command.Text("a"), command.Text("2024-01-02 03:04:05"), command.Text("2024-01-02"), command.Text("2024-01-02T03:04:05.123Z"),
			command.Int(1), command.Float(1.5), command.Blob([]byte{0, 1, 2}),
		}},
		command.Statement{SQL: "INSERT INTO t(name) VALUES (:n) RETURNING id, name", Params: []command.Value{{Type: command.TypeText, Text: "b", Name: "n"}}},
		command.Statement{SQL: "SELECT $2 AS two, $1 AS one", Params: []command.Value{command.Int(1), command.Int(2)}},
		command.Statement{SQL: "UPDATE t SET f = f * 2"},
	)
	r := a.applyCmd(t, c)
	if err := r.Err(); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if len(r.Statements) != 4 {
		t.Fatalf("got %d statement results, want 4", len(r.Statements))
	}
	if s := r.Statements[0]; s.RowsAffected != 1 || s.LastInsertID != 1 || s.Columns != nil {
		t.Errorf("insert: got %+v", s)
	}
	s1 := r.Statements[1]
	if s1.RowsAffected != 1 || s1.LastInsertID != 2 || len(s1.Rows) != 1 || s1.Rows[0][0].Int != 2 || s1.Rows[0][1].Text != "b" {
		t.Errorf("insert returning: got %+v", s1)
	}
	if want := []command.Column{{Name: "id", DeclType: "BIGINT"}, {Name: "name", DeclType: "TEXT"}}; !equalCols(s1.Columns, want) {
		t.Errorf("returning columns: got %+v, want %+v", s1.Columns, want)
	}
	if s := r.Statements[2]; len(s.Rows) != 1 || s.Rows[0][0].Int != 2 || s.Rows[0][1].Int != 1 {
		t.Errorf("$2, $1: got %+v", s)
	}
	if s := r.Statements[3]; s.RowsAffected != 2 {
		t.Errorf("update: got %+v", s)
	}

	q, err := f.Query(context.Background(), stmts("SELECT at, d, ts, ok, f, b FROM t WHERE id = 1"))
	if err != nil || q.Err() != nil {
		t.Fatalf("Query: %v %v", err, q.Err())
	}
	want := []command.Value{command.Text("2024-01-02 03:04:05"), command.Text("2024-01-02"), command.Text("2024-01-02T03:04:05.123Z"), command.Int(1), command.Float(3), command.Blob([]byte{0, 1, 2})}
	got := q.Statements[0].Rows[0]
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("column %d: got %#v, want %#v", i, got[i], want[i])
		}
	}
	if dt := q.Statements[0].Columns[0].DeclType; dt != "DATETIME" {
		t.Errorf("decltype: got %q", dt)
	}

	// A missing parameter is a SQL error.
	r = a.exec(t, "SELECT $3")
	if e := r.Err(); e == nil || e.Code != codeRange {
		t.Errorf("missing parameter: got %v", e)
	}
	// Noop.
	r = a.applyCmd(t, a.cmd(command.KindNoop))
	if len(r.Statements) != 0 {
		t.Errorf("noop: got %+v", r)
	}
	// An intact entry of a kind this version does not know: refused, the
	// same on every node.
	resp := f.Apply(&hraft.Log{Index: 1000, Data: command.Encode(&command.Command{Kind: 77})})
	if r, ok := resp.(*command.Result); !ok || r.Err() == nil || r.Err().Code != command.CodeRefused {
		t.Errorf("unsupported: got %#v", resp)
	}
}

func equalCols(a, b []command.Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestConstraintRollsBackCommand(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE)", "INSERT INTO t(v) VALUES ('x')")
	before := dump(t, f)
	r := a.exec(t, "INSERT INTO t(v) VALUES ('y')", "INSERT INTO t(v) VALUES ('x')", "INSERT INTO t(v) VALUES ('z')")
	if len(r.Statements) != 2 {
		t.Fatalf("got %d results, want 2 (later statements not run)", len(r.Statements))
	}
	if r.Statements[0].Err != nil || r.Statements[0].RowsAffected != 1 {
		t.Errorf("first: %+v", r.Statements[0])
	}
	if e := r.Statements[1].Err; e == nil || e.Code != 2067 {
		t.Fatalf("second: got %v, want SQLITE_CONSTRAINT_UNIQUE (2067)", e)
	}
	if after := dump(t, f); after != before {
		t.Errorf("command not rolled back:\n%s\nwant\n%s", after, before)
	}
	// Deferred foreign keys are checked per command.
	a.mustExec(t, "CREATE TABLE p(id INTEGER PRIMARY KEY)", "CREATE TABLE c(p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)")
	before = dump(t, f)
	r = a.exec(t, "INSERT INTO c VALUES (5)")
	if e := r.Err(); e == nil || e.Code != 787 {
		t.Fatalf("deferred fk: got %v", e)
	}
	if after := dump(t, f); after != before {
		t.Errorf("deferred fk not rolled back")
	}
	// Immediate foreign keys are on.
	a.mustExec(t, "CREATE TABLE c2(p INTEGER REFERENCES p(id))")
	if e := a.exec(t, "INSERT INTO c2 VALUES (5)").Err(); e == nil || e.Code != 787 {
		t.Fatalf("fk: got %v", e)
	}
}

func TestRefused(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)", "INSERT INTO t(v) VALUES ('x')")
	refused := []string{
		"ATTACH 'other.db' AS o",
		"DETACH o",
		"VACUUM",
		"  /* c */ vacuum INTO '/tmp/x.db'",
		"SELECT load_extension('x')",
		"PRAGMA journal_mode=DELETE",
		"PRAGMA synchronous=FULL",
		"PRAGMA foreign_keys=OFF",
		"PRAGMA writable_schema=ON",
		"PRAGMA database_list",
		"SELECT * FROM pragma_database_list",
		"CREATE TEMP TABLE x(a)",
		"CREATE TABLE temp.x(a)",
		"CREATE TEMP VIEW v AS SELECT 1",
		"CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END",
		"SELECT total_changes()",
		"SELECT changes()",
		"CREATE VIRTUAL TABLE s USING dbstat",
	}
	before := dump(t, f)
	for _, sql := range refused {
		// Apply.
		r := a.exec(t, "INSERT INTO t(v) VALUES ('y')", sql)
		if e := r.Err(); e == nil || e.Code != command.CodeRefused {
			t.Errorf("Apply %q: got %v, want refused", sql, e)
		}
		// Query.
		q, err := f.Query(context.Background(), stmts(sql))
		if err != nil {
			t.Fatalf("Query %q: %v", sql, err)
		}
		if e := q.Err(); e == nil || (e.Code != command.CodeRefused && e.Code != command.CodeReadOnly) {
			t.Errorf("Query %q: got %v, want refused", sql, e)
		}
		// Classify.
		_, err = f.Classify(context.Background(), sql)
		var ce *command.Error
		if !errors.As(err, &ce) || ce.Code != command.CodeRefused {
			t.Errorf("Classify %q: got %v, want refused", sql, err)
		}
	}
	// Transaction control is refused inside commands but reported by
	// Classify. Savepoints are allowed in commands (a transaction block's
	// entry replays them, nested in the entry's transaction) except under
	// the names the state machine keeps for itself.
	for _, sql := range []string{"BEGIN", "COMMIT", "ROLLBACK", "END", "SAVEPOINT raftsql_cmd", "RELEASE raftsql_cmd", "ROLLBACK TO raftsql_cmd"} {
		if e := a.exec(t, "INSERT INTO t(v) VALUES ('y')", sql).Err(); e == nil || e.Code != command.CodeRefused {
			t.Errorf("Apply %q: got %v, want refused", sql, e)
		}
	}
	for _, sql := range []string{"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT s", "RELEASE s", "END"} {
		info, err := f.Classify(context.Background(), sql)
		if err != nil || info.Transaction == "" {
			t.Errorf("Classify %q: got %+v, %v", sql, info, err)
		}
	}
	if after := dump(t, f); after != before {
		t.Errorf("refused statements changed the database:\n%s", after)
	}
	// Allowed introspection and setting reads.
	for _, sql := range []string{"PRAGMA table_info(t)", "SELECT * FROM pragma_table_info('t')", "PRAGMA foreign_keys", "PRAGMA index_list(t)", "PRAGMA user_version"} {
		q, err := f.Query(context.Background(), stmts(sql))
		if err != nil || q.Err() != nil {
			t.Errorf("Query %q: %v %v", sql, err, q.Err())
		}
	}
	a.mustExec(t, "PRAGMA user_version = 7")
	// Writes are refused on the read path.
	q, err := f.Query(context.Background(), stmts("INSERT INTO t(v) VALUES ('z')"))
	if err != nil || q.Err() == nil || q.Err().Code != command.CodeReadOnly {
		t.Errorf("Query insert: got %v, %v", q, err)
	}
	r := a.applyCmd(t, a.cmd(command.KindQuery, stmts("SELECT count(*) FROM t", "DELETE FROM t")...))
	if e := r.Err(); e == nil || e.Code != command.CodeReadOnly {
		t.Errorf("KindQuery delete: got %v", e)
	}
	if n := r.Statements[0].Rows[0][0].Int; n != 1 {
		t.Errorf("KindQuery count: got %d", n)
	}
	// More than one statement in one Statement.
	if e := a.exec(t, "INSERT INTO t(v) VALUES ('a'); INSERT INTO t(v) VALUES ('b')").Err(); e == nil {
		t.Errorf("two statements: got nil error")
	}
}

func TestClassify(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(id INTEGER PRIMARY KEY, v VARCHAR(10))")
	ctx := context.Background()
	info, err := f.Classify(ctx, "SELECT id, v, 1 AS x FROM t WHERE id = $1")
	if err != nil || !info.ReadOnly || len(info.Columns) != 3 || info.Columns[1].DeclType != "VARCHAR(10)" || len(info.Params) != 1 {
		t.Errorf("select: %+v %v", info, err)
	}
	info, err = f.Classify(ctx, "INSERT INTO t(v) VALUES (?) RETURNING id")
	if err != nil || info.ReadOnly || len(info.Columns) != 1 {
		t.Errorf("insert: %+v %v", info, err)
	}
	_, err = f.Classify(ctx, "INSERT INTO later(v) VALUES (1)")
	var ce *command.Error
	if !errors.As(err, &ce) || ce.Code != 1 || !strings.Contains(ce.Message, "no such table") {
		t.Errorf("unknown table: got %v", err)
	}
	if info, err := f.Classify(ctx, "-- nothing"); err != nil || !info.Empty {
		t.Errorf("comment: %+v %v", info, err)
	}
}

// The same commands applied to two state machines, concurrently, give the
// same bytes, even with the clock, random() and randomblob() in defaults
// and triggers.
func TestDeterminism(t *testing.T) {
	script := [][]string{
		{`CREATE TABLE t(id INTEGER PRIMARY KEY, created TEXT DEFAULT CURRENT_TIMESTAMP, r INTEGER DEFAULT (random()), b BLOB DEFAULT (randomblob(8)), v TEXT)`,
			`CREATE TABLE log(at TEXT, d TEXT, tm TEXT, jd REAL, ue INTEGER, s TEXT, r INTEGER, b BLOB)`,
			`CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_TIME, julianday('now'), unixepoch('now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), random(), randomblob(4)); END`},
		{`INSERT INTO t(v) VALUES ('a'), ('b')`},
		{`INSERT INTO t(v) SELECT hex(randomblob(3)) || datetime('now') FROM t ORDER BY id DESC LIMIT 3`},
		{`UPDATE t SET v = v || random() WHERE id % 2 = 0`, `INSERT INTO t(v) VALUES (date('now'))`},
	}
	fs := [2]*FSM{openTest(t), openTest(t)}
	var wg sync.WaitGroup
	for _, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := &applier{f: f}
			for i := 0; i < 10; i++ {
				for _, s := range script {
					if i > 0 && strings.HasPrefix(s[0], "CREATE") {
						continue
					}
					if e := a.exec(t, s...).Err(); e != nil {
						t.Errorf("%q: %v", s, e)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	d0, d1 := dump(t, fs[0]), dump(t, fs[1])
	if d0 != d1 {
		t.Fatalf("dumps differ:\n%s\n----\n%s", d0, d1)
	}
	if !strings.Contains(d0, `text "2024-05-06 07:08:`) {
		t.Errorf("dump does not show the command time:\n%s", d0[:min(len(d0), 2000)])
	}
	if fs[0].LastTime() != fs[1].LastTime() || fs[0].LastTime() == 0 {
		t.Errorf("LastTime: %d, %d", fs[0].LastTime(), fs[1].LastTime())
	}
	// Reads use the real clock and real randomness.
	q, err := fs[0].Query(context.Background(), stmts("SELECT unixepoch('now'), random(), random()"))
	if err != nil || q.Err() != nil {
		t.Fatal(err, q.Err())
	}
	row := q.Statements[0].Rows[0]
	if now := time.Now().Unix(); row[0].Int < now-5 || row[0].Int > now+5 {
		t.Errorf("read clock: got %d, want about %d", row[0].Int, now)
	}
	if row[1].Int == row[2].Int {
		t.Errorf("read random() repeats")
	}
}

// Time never goes backwards across commands.
func TestMonotonicTime(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(at TEXT)")
	late := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	c := a.cmd(command.KindExecute, stmts("INSERT INTO t VALUES (datetime('now'))")...)
	c.TimeUnixNano = late
	a.applyCmd(t, c)
	c = a.cmd(command.KindExecute, stmts("INSERT INTO t VALUES (datetime('now'))")...)
	c.TimeUnixNano = late - int64(time.Hour)
	a.applyCmd(t, c)
	q, _ := f.Query(context.Background(), stmts("SELECT at FROM t"))
	for _, r := range q.Statements[0].Rows {
		if r[0].Text != "2030-01-01 00:00:00" {
			t.Errorf("got %q", r[0].Text)
		}
	}
	if f.LastTime() != late {
		t.Errorf("LastTime: got %d, want %d", f.LastTime(), late)
	}
}

func TestBatch(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE)")
	logs := []*hraft.Log{
		a.log(a.cmd(command.KindExecute, stmts("INSERT INTO t(v) VALUES ('a')")...)),
		a.log(a.cmd(command.KindExecute, stmts("INSERT INTO t(v) VALUES ('b')", "INSERT INTO t(v) VALUES ('a')")...)),
		a.log(a.cmd(command.KindExecute, stmts("INSERT INTO t(v) VALUES ('c')")...)),
		a.log(a.cmd(command.KindExecute, stmts("INSERT OR ROLLBACK INTO t(v) VALUES ('c')")...)),
		a.log(a.cmd(command.KindNoop)),
		a.log(a.cmd(command.KindExecute, stmts("INSERT INTO t(v) VALUES ('d') RETURNING id")...)),
	}
	out := f.ApplyBatch(logs)
	errs := []bool{false, true, false, true, false, false}
	for i, o := range out {
		r := o.(*command.Result)
		if (r.Err() != nil) != errs[i] {
			t.Errorf("command %d: got %v", i, r.Err())
		}
	}
	// The same commands one by one give the same state.
	g := openTest(t)
	b := &applier{f: g}
	b.mustExec(t, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE)")
	for _, l := range logs {
		g.Apply(l)
	}
	if d0, d1 := dump(t, f), dump(t, g); d0 != d1 {
		t.Fatalf("batch and single apply differ:\n%s\n----\n%s", d0, d1)
	}
	if !strings.Contains(dump(t, f), `text "d"`) || !strings.Contains(dump(t, f), `text "a"`) {
		t.Errorf("dump: %s", dump(t, f))
	}
}

// TestGroup checks that a group entry applies its commands exactly as
// separate entries would, each with its own result, and that a retried
// request id inside a group is applied once.
func TestGroup(t *testing.T) {
	const schema = "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE, at TEXT DEFAULT CURRENT_TIMESTAMP, r INTEGER DEFAULT (random()))"
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, schema)
	retried := a.cmd(command.KindExecute, stmts("INSERT INTO t(v) VALUES ('r') RETURNING id")...)
	retried.RequestID = command.RequestID{Client: 9, Seq: 1}
	members := []*command.Command{
		a.cmd(command.KindExecute, stmts("INSERT INTO t(v) VALUES ('a')")...),
		a.cmd(command.KindExecute, stmts("INSERT INTO t(v) VALUES ('b')", "INSERT INTO t(v) VALUES ('a')")...),
		retried,
		a.cmd(command.KindNoop),
		a.cmd(command.KindExecute, stmts("INSERT OR ROLLBACK INTO t(v) VALUES ('a')")...),
		retried,
		a.cmd(command.KindExecute, stmts("INSERT INTO t(v) VALUES ('c') RETURNING id")...),
	}
	encoded := make([][]byte, len(members))
	for i, c := range members {
		encoded[i] = command.Encode(c)
	}
	a.index++
	group := &hraft.Log{Index: a.index, Term: 1, Type: hraft.LogCommand, Data: command.EncodeGroup(encoded)}
	before := a.log(a.cmd(command.KindExecute, stmts("INSERT INTO t(v) VALUES ('before')")...))
	before.Index, group.Index = group.Index, group.Index+1
	a.index++
	out := f.ApplyBatch([]*hraft.Log{before, group})
	if r, ok := out[0].(*command.Result); !ok || r.Err() != nil {
		t.Fatalf("entry before the group: got %#v", out[0])
	}
	results, ok := out[1].([]*command.Result)
	if !ok || len(results) != len(members) {
		t.Fatalf("group: got %T %v, want %d results", out[1], out[1], len(members))
	}
	wantErr := []bool{false, true, false, false, true, false, false}
	for i, r := range results {
		if (r.Err() != nil) != wantErr[i] {
			t.Errorf("member %d: error %v, want error %v", i, r.Err(), wantErr[i])
		}
	}
	if results[2] != results[5] {
		t.Errorf("retried request id: got two results %+v and %+v", results[2], results[5])
	}

	// The same commands as separate entries give the same state.
	g := openTest(t)
	b := &applier{f: g}
	b.mustExec(t, schema)
	g.Apply(before)
	for _, c := range members {
		g.Apply(b.log(c))
	}
	if d0, d1 := dump(t, f), dump(t, g); d0 != d1 {
		t.Fatalf("group and separate entries differ:\n%s\n----\n%s", d0, d1)
	}
	q, _ := f.Query(context.Background(), stmts("SELECT group_concat(v, ',') FROM (SELECT v FROM t ORDER BY id)"))
	if got := q.Statements[0].Rows[0][0].Text; got != "before,a,r,c" {
		t.Errorf("rows: got %q, want before,a,r,c", got)
	}
	if idx, _ := f.AppliedIndex(); idx != group.Index {
		t.Errorf("applied index: got %d, want %d", idx, group.Index)
	}
}

func TestDedup(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
	c := a.cmd(command.KindExecute, stmts("INSERT INTO t(v) VALUES ('x') RETURNING id")...)
	c.RequestID = command.RequestID{Client: 42, Seq: 1}
	r1 := a.applyCmd(t, c)
	r2 := a.applyCmd(t, c)
	if r1.Statements[0].Rows[0][0].Int != r2.Statements[0].Rows[0][0].Int {
		t.Errorf("retry result differs: %+v vs %+v", r1, r2)
	}
	q, _ := f.Query(context.Background(), stmts("SELECT count(*) FROM t"))
	if n := q.Statements[0].Rows[0][0].Int; n != 1 {
		t.Errorf("retry applied again: %d rows", n)
	}
	// Within one batch, and after a snapshot restore.
	c2 := a.cmd(command.KindExecute, stmts("INSERT INTO t(v) VALUES ('y')")...)
	c2.RequestID = command.RequestID{Client: 42, Seq: 2}
	f.ApplyBatch([]*hraft.Log{a.log(c2), a.log(c2)})
	g := restoreInto(t, f)
	b := &applier{f: g, index: a.index}
	b.applyCmd(t, c)
	b.applyCmd(t, c2)
	q, _ = g.Query(context.Background(), stmts("SELECT count(*) FROM t"))
	if n := q.Statements[0].Rows[0][0].Int; n != 2 {
		t.Errorf("retries applied again: %d rows, want 2", n)
	}
}

type memSink struct {
	bytes.Buffer
	cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }
func (s *memSink) Close() error  { return nil }

func takeSnapshot(t testing.TB, f *FSM) []byte {
	t.Helper()
	s, err := f.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer s.Release()
	var sink memSink
	if err := s.Persist(&sink); err != nil {
		t.Fatalf("Persist: %v", err)
	}
	return sink.Bytes()
}

func restoreInto(t testing.TB, f *FSM) *FSM {
	t.Helper()
	data := takeSnapshot(t, f)
	g := openTest(t)
	if err := g.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	return g
}

func TestSnapshotRestore(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, at TEXT DEFAULT CURRENT_TIMESTAMP)", "CREATE INDEX tv ON t(v)")
	for i := 0; i < 200; i++ {
		a.mustExec(t, "INSERT INTO t(v) VALUES (hex(randomblob(100)))")
	}
	s, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	want := dump(t, f)
	// Applies continue while the snapshot is persisted.
	for i := 0; i < 50; i++ {
		a.mustExec(t, "INSERT INTO t(v) VALUES ('later')")
	}
	var sink memSink
	if err := s.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	s.Release()
	g := openTest(t)
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, g); got != want {
		t.Fatalf("restored state differs")
	}
	if idx, _ := g.AppliedIndex(); idx != 201 {
		t.Errorf("restored index: got %d, want 201", idx)
	}
	if g.LastTime() == 0 {
		t.Errorf("restored LastTime is 0")
	}
	// The restored node applies the later entries to the same state.
	b := &applier{f: g, index: 201, seq: 201}
	for i := 0; i < 50; i++ {
		b.mustExec(t, "INSERT INTO t(v) VALUES ('later')")
	}
	if d0, d1 := dump(t, f), dump(t, g); d0 != d1 {
		t.Fatalf("states differ after replay")
	}
	// The snapshot body is a plain SQLite file.
	var body bytes.Buffer
	if _, err := snapshot.Extract(&body, bytes.NewReader(sink.Bytes())); err != nil {
		t.Fatal(err)
	}
	// ... that SQLite opens on its own.
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, body.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 200 {
		t.Errorf("plain SQLite open: %d rows, %v", n, err)
	}
}

func TestRestoreCorrupt(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(v)", "INSERT INTO t VALUES (1)")
	data := takeSnapshot(t, f)

	g := openTest(t)
	b := &applier{f: g}
	b.mustExec(t, "CREATE TABLE other(v)", "INSERT INTO other VALUES ('keep')")
	want := dump(t, g)
	for name, bad := range map[string][]byte{
		"flipped":   flip(data, len(data)/2),
		"truncated": data[:len(data)-10],
		"empty":     nil,
	} {
		if err := g.Restore(io.NopCloser(bytes.NewReader(bad))); err == nil {
			t.Errorf("%s: Restore succeeded", name)
		}
		if got := dump(t, g); got != want {
			t.Errorf("%s: state changed:\n%s", name, got)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(g.Path()), "*.restore-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	b.mustExec(t, "INSERT INTO other VALUES ('still works')")
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x40
	return c
}

func TestBackup(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(v)", "INSERT INTO t VALUES (1), (2)")
	var buf bytes.Buffer
	h, err := f.Backup(context.Background(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if h.Index != 1 {
		t.Errorf("backup index: %d", h.Index)
	}
	g := openTest(t)
	if err := g.Restore(io.NopCloser(bytes.NewReader(buf.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if dump(t, f) != dump(t, g) {
		t.Errorf("backup differs")
	}
}

func TestConcurrentReadsDuringApplyAndRestore(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(v)")
	data := takeSnapshot(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, err := f.Query(ctx, stmts("SELECT count(*) FROM t")); err != nil && ctx.Err() == nil {
					t.Errorf("Query: %v", err)
					return
				}
				f.Classify(ctx, "SELECT * FROM t")
			}
		}()
	}
	for i := 0; i < 100; i++ {
		a.mustExec(t, "INSERT INTO t VALUES (1)")
		if i%30 == 0 {
			if err := f.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
				t.Fatal(err)
			}
		}
	}
	cancel()
	wg.Wait()
}

func TestQueryCancel(t *testing.T) {
	f := openTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := f.Query(ctx, stmts("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want deadline exceeded", err)
	}
	if _, err := f.Query(context.Background(), stmts("SELECT 1")); err != nil {
		t.Fatalf("query after cancel: %v", err)
	}
}

func BenchmarkApplyInsert(b *testing.B) {
	f := openTest(b)
	a := &applier{f: f}
	a.mustExec(b, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, n INTEGER)")
	logs := make([]*hraft.Log, b.N)
	for i := range logs {
		logs[i] = a.log(a.cmd(command.KindExecute, command.Statement{
			SQL:    "INSERT INTO t(name, n) VALUES ($1, $2)",
			Params: []command.Value{command.Text("some name"), command.Int(int64(i))},
		}))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if r, ok := f.Apply(logs[i]).(*command.Result); !ok || r.Err() != nil {
			b.Fatal(r)
		}
	}
}

func TestFatal(t *testing.T) {
	var fatal []error
	f, err := Open(Config{Dir: t.TempDir(), OnFatal: func(err error) { fatal = append(fatal, err) }})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(b BLOB)")
	// A full disk, simulated by capping the file at its current size.
	if err := f.w.exec("PRAGMA max_page_count = 2"); err != nil {
		t.Fatal(err)
	}
	resp := f.Apply(a.log(a.cmd(command.KindExecute, stmts("INSERT INTO t VALUES (zeroblob(100000))")...)))
	if err, ok := resp.(error); !ok || !errors.Is(err, ErrStopped) {
		t.Fatalf("Apply: got %#v, want ErrStopped", resp)
	}
	if len(fatal) != 1 {
		t.Fatalf("OnFatal called %d times", len(fatal))
	}
	resp = f.Apply(a.log(a.cmd(command.KindExecute, stmts("SELECT 1")...)))
	if err, ok := resp.(error); !ok || !errors.Is(err, ErrStopped) {
		t.Fatalf("Apply after failure: got %#v", resp)
	}
	if _, err := f.Query(context.Background(), stmts("SELECT 1")); !errors.Is(err, ErrStopped) {
		t.Fatalf("Query after failure: got %v", err)
	}
	if _, err := f.Snapshot(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Snapshot after failure: got %v", err)
	}
	if len(fatal) != 1 {
		t.Fatalf("OnFatal called %d times", len(fatal))
	}
}

// Configuration entries reach ApplyBatch too; they change nothing.
func TestConfigurationEntries(t *testing.T) {
	f := openTest(t)
	out := f.ApplyBatch([]*hraft.Log{{Index: 1, Term: 1, Type: hraft.LogConfiguration, Data: []byte{1, 2, 3}}})
	if out[0] != nil {
		t.Errorf("got %#v, want nil", out[0])
	}
	if idx, _ := f.AppliedIndex(); idx != 1 {
		t.Errorf("index: %d", idx)
	}
}

// BenchmarkApplyGroup applies group entries of 64 single-row INSERTs, as the
// leader proposes them under load; it reports the time per INSERT.
func BenchmarkApplyGroup(b *testing.B) {
	const size = 64
	f := openTest(b)
	a := &applier{f: f}
	a.mustExec(b, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, n INTEGER)")
	entries := b.N/size + 1
	logs := make([]*hraft.Log, entries)
	for i := range logs {
		members := make([][]byte, size)
		for j := range members {
			c := a.cmd(command.KindExecute, command.Statement{
				SQL:    "INSERT INTO t(name, n) VALUES ($1, $2)",
				Params: []command.Value{command.Text("some name"), command.Int(int64(i*size + j))},
			})
			c.RequestID = command.RequestID{Client: uint64(j + 1), Seq: uint64(i + 1)}
			members[j] = command.Encode(c)
		}
		a.index++
		logs[i] = &hraft.Log{Index: a.index, Term: 1, Type: hraft.LogCommand, Data: command.EncodeGroup(members)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range entries {
		rs, ok := f.Apply(logs[i]).([]*command.Result)
		if !ok || len(rs) != size || rs[0].Err() != nil {
			b.Fatal(rs)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(entries*size), "ns/insert")
}

// A statement that is not an INSERT, UPDATE or DELETE affects no rows, even
// after one that did: SQLite keeps the last count per connection, and a
// count that depends on what the connection ran before would differ from
// node to node.
func TestRowsAffectedOfOtherStatements(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(v)")
	r := a.mustExec(t, "INSERT INTO t VALUES (1), (2), (3)", "CREATE TABLE c AS SELECT * FROM t", "CREATE INDEX ti ON t(v)", "UPDATE t SET v = v WHERE v > 100", "DELETE FROM t WHERE v < 3")
	var got []int64
	for _, s := range r.Statements {
		got = append(got, s.RowsAffected)
	}
	if want := []int64{3, 0, 0, 0, 2}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rows affected: got %v, want %v", got, want)
	}
}

// TestDamagedEntryStopsTheNode checks that an entry whose bytes changed on
// this node's disk is never applied: the entries before it in the batch
// are, then the state machine stops through OnFatal, naming the index.
func TestDamagedEntryStopsTheNode(t *testing.T) {
	for _, group := range []bool{false, true} {
		var fatal []error
		f, err := Open(Config{Dir: t.TempDir(), ReadConns: 1, OnFatal: func(err error) { fatal = append(fatal, err) }})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		a := &applier{f: f}
		a.mustExec(t, "CREATE TABLE t(v)")
		good := a.log(a.cmd(command.KindExecute, stmts("INSERT INTO t VALUES ('before')")...))
		data := command.Encode(a.cmd(command.KindExecute, stmts("INSERT INTO t VALUES ('damaged')")...))
		if group {
			data = command.EncodeGroup([][]byte{data, command.Encode(a.cmd(command.KindExecute, stmts("INSERT INTO t VALUES ('member')")...))})
		}
		// 'damaged' becomes 'damagec': still a well-formed entry.
		i := bytes.Index(data, []byte("damaged"))
		data[i+6] ^= 0x07
		a.index++
		bad := &hraft.Log{Index: a.index, Term: 1, Type: hraft.LogCommand, Data: data}
		after := a.log(a.cmd(command.KindExecute, stmts("INSERT INTO t VALUES ('after')")...))

		out := f.ApplyBatch([]*hraft.Log{good, bad, after})
		if r, ok := out[0].(*command.Result); !ok || r.Err() != nil {
			t.Fatalf("group=%v: entry before the damaged one: got %#v", group, out[0])
		}
		for _, o := range out[1:] {
			if err, ok := o.(error); !ok || !errors.Is(err, ErrStopped) {
				t.Fatalf("group=%v: got %#v, want ErrStopped", group, o)
			}
		}
		if len(fatal) != 1 || !strings.Contains(fatal[0].Error(), fmt.Sprintf("log entry %d", bad.Index)) || !errors.Is(fatal[0], command.ErrChecksum) {
			t.Fatalf("group=%v: OnFatal got %v, want one error naming entry %d", group, fatal, bad.Index)
		}
		if idx, _ := f.AppliedIndex(); idx != good.Index {
			t.Errorf("group=%v: applied index %d, want %d", group, idx, good.Index)
		}
		if _, err := f.Query(context.Background(), stmts("SELECT 1")); !errors.Is(err, ErrStopped) {
			t.Errorf("group=%v: query after the failure: %v", group, err)
		}
	}
}
