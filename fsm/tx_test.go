package fsm

import (
	"context"
	"testing"

	hraft "github.com/hashicorp/raft"

	"github.com/raftsql/raftsql/fsm/command"
)

// txStatements is a transfer between two rows, as a transaction block runs it.
func txStatements(i int) []command.Statement {
	a, b := command.Int(int64(i%100+1)), command.Int(int64((i+37)%100+1))
	return []command.Statement{
		{SQL: "UPDATE acct SET bal = bal - 1 WHERE id = $1", Params: []command.Value{a}},
		{SQL: "SELECT bal FROM acct WHERE id = $1", Params: []command.Value{a}},
		{SQL: "UPDATE acct SET bal = bal + 1 WHERE id = $1", Params: []command.Value{b}},
		{SQL: "INSERT INTO hist (a, b, at, r) VALUES ($1, $2, CURRENT_TIMESTAMP, random())", Params: []command.Value{a, b}},
	}
}

func openTxTest(t testing.TB) (*FSM, *applier) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER)",
		"CREATE TABLE hist (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, at TEXT, r INTEGER)")
	for i := 1; i <= 100; i++ {
		a.applyCmd(t, a.cmd(command.KindExecute, command.Statement{SQL: "INSERT INTO acct VALUES ($1, 1000)", Params: []command.Value{command.Int(int64(i))}}))
	}
	return f, a
}

// TestSpeculationMatchesApply runs a transaction speculatively, undoes it,
// applies it as a command with the same stamps, and checks that the client
// saw exactly what the command then stored.
func TestSpeculationMatchesApply(t *testing.T) {
	f, a := openTxTest(t)
	ctx := context.Background()
	before := dump(t, f)
	c := a.cmd(command.KindExecute, txStatements(3)...)
	c.Statements = append(c.Statements, command.Statement{SQL: "SELECT at, r FROM hist ORDER BY id DESC LIMIT 1"})
	wt, err := f.BeginWrite(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var seen []command.StatementResult
	for _, st := range c.Statements {
		sr := wt.Exec(ctx, st)
		if sr.Err != nil {
			t.Fatalf("%s: %v", st.SQL, sr.Err)
		}
		seen = append(seen, sr)
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
	for i := range seen {
		got, want := res.Statements[i], seen[i]
		if got.RowsAffected != want.RowsAffected || len(got.Rows) != len(want.Rows) {
			t.Fatalf("statement %d: applied %+v, speculation saw %+v", i, got, want)
		}
		for r := range got.Rows {
			for k := range got.Rows[r] {
				if !got.Rows[r][k].Equal(want.Rows[r][k]) {
					t.Fatalf("statement %d row %d: applied %v, speculation saw %v", i, r, got.Rows[r][k], want.Rows[r][k])
				}
			}
		}
	}
}

func TestReadTxKeepsItsSnapshot(t *testing.T) {
	f, a := openTxTest(t)
	ctx := context.Background()
	rt, err := f.BeginRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	idx, _ := f.AppliedIndex()
	if rt.Index() != idx {
		t.Fatalf("read tx index %d, state machine at %d", rt.Index(), idx)
	}
	a.mustExec(t, "UPDATE acct SET bal = 0")
	res, err := rt.Query(ctx, stmts("SELECT sum(bal) FROM acct"))
	if err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	if got := res.Statements[0].Rows[0][0].Int; got != 100000 {
		t.Fatalf("read tx saw %d, want its snapshot's 100000", got)
	}
}

// BenchmarkTxSpeculate is what a transaction block costs the leader before
// its commit: the statements run once speculatively and are undone.
func BenchmarkTxSpeculate(b *testing.B) {
	f, a := openTxTest(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		c := a.cmd(command.KindExecute)
		wt, err := f.BeginWrite(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		for _, st := range txStatements(i) {
			if sr := wt.Exec(ctx, st); sr.Err != nil {
				b.Fatal(sr.Err)
			}
		}
		if err := wt.Rollback(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTxApply is the same transaction applied as one log entry, which
// every node pays.
func BenchmarkTxApply(b *testing.B) {
	f, a := openTxTest(b)
	logs := make([]*hraft.Log, b.N)
	for i := range logs {
		logs[i] = a.log(a.cmd(command.KindExecute, txStatements(i)...))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if r, ok := f.Apply(logs[i]).(*command.Result); !ok || r.Err() != nil {
			b.Fatal(r)
		}
	}
}

// TestWriteTxClassify: a speculative transaction describes statements
// against its own schema, which the read side does not see.
func TestWriteTxClassify(t *testing.T) {
	f, _ := openTxTest(t)
	ctx := context.Background()
	wt, err := f.BeginWrite(ctx, &command.Command{TimeUnixNano: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer wt.Rollback()
	for _, sql := range []string{"CREATE TABLE fresh (a INTEGER)", "ALTER TABLE acct ADD COLUMN note TEXT"} {
		if sr := wt.Exec(ctx, command.Statement{SQL: sql}); sr.Err != nil {
			t.Fatalf("%s: %v", sql, sr.Err)
		}
	}
	info, err := wt.Classify("INSERT INTO fresh VALUES (1)")
	if err != nil || info.ReadOnly {
		t.Fatalf("insert into the new table: %+v, %v", info, err)
	}
	info, err = wt.Classify("SELECT a, note FROM fresh, acct")
	if err != nil || !info.ReadOnly || len(info.Columns) != 2 || info.Columns[0].DeclType != "INTEGER" || info.Columns[1].DeclType != "TEXT" {
		t.Fatalf("select of the new columns: %+v, %v", info, err)
	}
	if _, err := wt.Classify("SELECT * FROM missing"); err == nil {
		t.Fatal("a missing table was described")
	}
	if _, err := wt.Classify("ATTACH 'x' AS y"); !isRefused(err) {
		t.Fatalf("ATTACH: %v, want a refusal", err)
	}
	if _, err := f.Classify(ctx, "INSERT INTO fresh VALUES (1)"); err == nil {
		t.Fatal("the read side sees the uncommitted table")
	}
}

func isRefused(err error) bool {
	ce, ok := err.(*command.Error)
	return ok && ce.Code == command.CodeRefused
}
