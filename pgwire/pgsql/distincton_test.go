package pgsql

import (
	"strings"
	"testing"
)

// TestDistinctOnBounded checks that statements whose DISTINCT ON rewrite
// would grow without bound are refused: one nested in the expressions of
// another (each copy rewritten again, exponential in the depth), and more
// than maxDistinctOn in one statement (each a rewrite of all of it).
func TestDistinctOnBounded(t *testing.T) {
	nested := "a"
	for i := 0; i < 6; i++ { // 3^6 copies of a
		nested = "(SELECT DISTINCT ON (" + nested + ") " + nested + " FROM t ORDER BY " + nested + ")"
	}
	many := func(n int) string {
		return "SELECT 1 FROM t WHERE " + strings.Repeat("a IN (SELECT DISTINCT ON (a) a FROM t ORDER BY a) AND ", n) + "true"
	}
	for _, c := range []struct {
		sql, want string
	}{
		{"SELECT DISTINCT ON ((SELECT DISTINCT ON (a) a FROM t)) b FROM t", "not supported: DISTINCT ON inside the expressions of a DISTINCT ON"},
		{"SELECT DISTINCT ON (a) a FROM t ORDER BY a, (SELECT DISTINCT ON (b) b FROM t)", "not supported: DISTINCT ON inside the expressions of a DISTINCT ON"},
		{"SELECT " + nested, "not supported: DISTINCT ON more than 32 times in a statement"},
		{many(maxDistinctOn + 1), "not supported: DISTINCT ON more than 32 times in a statement"},
		{many(maxDistinctOn), ""},
	} {
		st := Parse(c.sql)
		got := ""
		if st.Err != nil {
			got = st.Err.Message
			if st.Err.Code != "0A000" {
				t.Errorf("%.60s…: code %s, want 0A000", c.sql, st.Err.Code)
			}
		}
		if got != c.want {
			t.Errorf("%.60s…: error %q, want %q", c.sql, got, c.want)
		}
		if c.want == "" && strings.Contains(strings.ToLower(st.SQL), "distinct on") {
			t.Errorf("%.60s…: DISTINCT ON left in %s", c.sql, st.SQL)
		}
	}
	db := openSQLite(t)
	if _, err := db.Exec(Parse(many(maxDistinctOn)).SQL); err != nil {
		t.Fatalf("SQLite: %v", err)
	}
}
