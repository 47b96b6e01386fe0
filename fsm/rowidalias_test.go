package fsm

import (
	"context"
	"testing"
)

// TestRowidAliasIsDescribedAsBigint: a result column that is a table's
// INTEGER PRIMARY KEY holds any 64-bit integer and is described as BIGINT;
// other INTEGER columns keep their declared type.
func TestRowidAliasIsDescribedAsBigint(t *testing.T) {
	f, a := openTxTest(t)
	a.mustExec(t,
		"CREATE TABLE one (id INTEGER PRIMARY KEY, n INTEGER, v TEXT)",
		"CREATE TABLE auto (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER)",
		"CREATE TABLE pair (a INTEGER, b INTEGER, PRIMARY KEY (a, b))",
		"CREATE TABLE named (rowid INTEGER, k INTEGER PRIMARY KEY)",
		"CREATE TABLE nokey (n INTEGER)",
		"CREATE TABLE worowid (k INTEGER PRIMARY KEY, n INTEGER) WITHOUT ROWID",
		"CREATE VIEW v AS SELECT id, n FROM one",
	)
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{"SELECT id, n, v FROM one", []string{"BIGINT", "INTEGER", "TEXT"}},
		{"SELECT id, n FROM auto", []string{"BIGINT", "INTEGER"}},
		{"SELECT a, b FROM pair", []string{"INTEGER", "INTEGER"}},
		{"SELECT rowid, k FROM named", []string{"INTEGER", "BIGINT"}},
		{"SELECT n FROM nokey", []string{"INTEGER"}},
		{"SELECT k, n FROM worowid", []string{"INTEGER", "INTEGER"}},
		{"SELECT id, n FROM v", []string{"BIGINT", "INTEGER"}},
		{"SELECT id + 0 FROM one", []string{""}},
	} {
		res, err := f.Query(context.Background(), stmts(tc.sql))
		if err != nil {
			t.Fatal(err)
		}
		sr := res.Statements[0]
		if sr.Err != nil {
			t.Fatalf("%s: %v", tc.sql, sr.Err)
		}
		for i, c := range sr.Columns {
			if c.DeclType != tc.want[i] {
				t.Errorf("%s: column %s is %q, want %q", tc.sql, c.Name, c.DeclType, tc.want[i])
			}
		}
	}
}
