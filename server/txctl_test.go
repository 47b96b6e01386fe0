package server

import (
	"github.com/raftsql/raftsql/pgwire/pgsql"
	"strings"
	"testing"
)

func parseTxControl(sql string) txControl { return txControlOf(pgsql.Parse(sql)) }

func TestParseTxControlFirstWord(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		verb txVerb
	}{
		{"BEGIN", txBegin},
		{"  -- a comment\n /* another */ begin read only", txBegin},
		{"start transaction", txBegin},
		{"COMMIT;", txCommit},
		{"end", txCommit},
		{"abort", txRollback},
		{"ROLLBACK TO SAVEPOINT a", txRollbackTo},
		{"savepoint a", txSavepoint},
		{"RELEASE a", txRelease},
		{"SELECT 1", txNone},
		{"BEGINNING", txNone},
		{"savepoints", txNone},
		{"/* unterminated", txNone},
		{"-- only a comment", txNone},
		{"SELECT '" + strings.Repeat("x", 1<<20) + "'", txNone},
	} {
		if got := parseTxControl(tc.sql).verb; got != tc.verb {
			t.Errorf("%.40q: verb %d, want %d", tc.sql, got, tc.verb)
		}
	}
}
