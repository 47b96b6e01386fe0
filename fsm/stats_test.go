package fsm

import (
	"context"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
)

// TestPlannerStatisticsAreTheFiles checks that the statistics the write
// connection plans with are those its database holds, whatever the
// connection did before: written directly, or made by an ANALYZE that
// rolled back (a failing command, a transaction block its client rolled
// back). A node that installs a snapshot loads the file's; a statement
// whose rows depend on the plan (a scan order, a LIMIT without ORDER BY)
// must store the same on both.
func TestPlannerStatisticsAreTheFiles(t *testing.T) {
	// The query's rows come in the order of the index it scans: ta's (a,
	// then rowid) or tb's (rowid).
	const pick = "INSERT INTO out SELECT group_concat(id) FROM t WHERE a BETWEEN 8 AND 9 AND b = 4"
	setup := []string{
		"CREATE TABLE t(id INTEGER PRIMARY KEY, a INT, b INT)",
		"CREATE INDEX ta ON t(a)", "CREATE INDEX tb ON t(b)", "CREATE TABLE out(ids)",
		// b is unique: tb looks the better index.
		"INSERT INTO t(a, b) WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v+1 FROM s WHERE v < 1000) SELECT v % 100, v FROM s",
		"ANALYZE",
		// Now b has three values: statistics made from here prefer ta.
		"UPDATE t SET b = id % 3 + 4",
	}
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, a *applier)
	}{
		{"direct write", func(t *testing.T, a *applier) {
			// Statistics that prefer ta.
			a.mustExec(t, "UPDATE sqlite_stat1 SET stat = '10 10' WHERE idx = 'ta'", "UPDATE sqlite_stat1 SET stat = '100000 1' WHERE idx = 'tb'")
		}},
		{"failed command", func(t *testing.T, a *applier) {
			if r := a.exec(t, "ANALYZE", "INSERT INTO nosuch VALUES (1)"); r.Err() == nil {
				t.Fatal("the command did not fail")
			}
		}},
		{"rolled back transaction", func(t *testing.T, a *applier) {
			wt, err := a.f.BeginWrite(context.Background(), a.cmd(command.KindExecute))
			if err != nil {
				t.Fatal(err)
			}
			if sr := wt.Exec(context.Background(), command.Statement{SQL: "ANALYZE"}); sr.Err != nil {
				t.Fatal(sr.Err)
			}
			if err := wt.Rollback(); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := openTest(t)
			a := &applier{f: f}
			for _, sql := range setup {
				a.mustExec(t, sql)
			}
			tc.run(t, a)
			g := restoreInto(t, f)
			b := &applier{f: g, index: a.index, seq: a.seq}
			a.mustExec(t, pick)
			b.mustExec(t, pick)
			if d1, d2 := dump(t, f), dump(t, g); d1 != d2 {
				t.Fatalf("the node that applied and the node restored from its snapshot differ:\n%s\n---\n%s", tail(d1), tail(d2))
			}
		})
	}
}

func tail(s string) string { return s[max(0, len(s)-120):] }
