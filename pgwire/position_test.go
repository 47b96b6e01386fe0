package pgwire

import (
	"testing"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// TestLocate: SQLite's errors get the position of what they name, and a
// syntax error Postgres' wording.
func TestLocate(t *testing.T) {
	for _, c := range []struct {
		sql, code, msg string
		wantMsg        string
		wantPos        int
	}{
		{"SELECT * FORM t", codeSyntaxError, `near "FORM": syntax error`, `syntax error at or near "FORM"`, 10},
		{"SELECT 1 FROM t WHERE", codeSyntaxError, "incomplete input", "syntax error at end of input", 22},
		{"SELECT é, foo FROM t", "42703", "no such column: foo", "no such column: foo", 11},
		{`SELECT * FROM t JOIN "Big" ON true`, "42P01", "no such table: main.Big", "no such table: main.Big", 22},
		{"SELECT frob(1)", "42883", "no such function: frob", "no such function: frob", 8},
		{"SELECT 1 +", codeSyntaxError, `near "AS": syntax error`, `near "AS": syntax error`, 0},
	} {
		e := locate(&Error{Code: c.code, Message: c.msg}, pgsql.Parse(c.sql))
		if e.Message != c.wantMsg || e.Position != c.wantPos {
			t.Errorf("%s: %q @%d, want %q @%d", c.sql, e.Message, e.Position, c.wantMsg, c.wantPos)
		}
	}
}
