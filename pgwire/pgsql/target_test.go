package pgsql

import "testing"

// TestTarget: the table a DML statement writes, however it is written.
func TestTarget(t *testing.T) {
	for _, tc := range []struct{ sql, want string }{
		{"INSERT INTO t (a) VALUES (1)", "t"},
		{"insert into public.accounts values (1)", "accounts"},
		{`INSERT INTO "Mixed ""Name""" VALUES (1)`, `Mixed "Name"`},
		{"INSERT OR REPLACE INTO kv VALUES (1, 2)", "kv"},
		{"REPLACE INTO kv VALUES (1, 2)", "kv"},
		{"UPDATE ONLY items SET n = n + 1", "items"},
		{"UPDATE OR IGNORE items SET n = 1", "items"},
		{"DELETE FROM orders WHERE id = $1", "orders"},
		{"WITH gone AS (DELETE FROM a RETURNING id) INSERT INTO b SELECT id FROM gone", "b"},
		{"WITH x AS (SELECT 1) UPDATE y SET v = 1", "y"},
		{"SELECT * FROM t", ""},
		{"CREATE TABLE t (a int)", ""},
	} {
		if got := Parse(tc.sql).Target(); got != tc.want {
			t.Errorf("Target(%q) = %q, want %q", tc.sql, got, tc.want)
		}
	}
}
