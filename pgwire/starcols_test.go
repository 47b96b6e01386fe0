package pgwire

import (
	"slices"
	"testing"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// TestStarExprTypes: in SELECT x, *, y the items around the * keep their
// types whatever the * expands to.
func TestStarExprTypes(t *testing.T) {
	for _, c := range []struct {
		sql   string
		ncols int
		want  []uint32
	}{
		{"SELECT *, a::text, 1 FROM t", 4, []uint32{0, 0, oidText, oidInt4}},
		{"SELECT count(*), * FROM t", 3, []uint32{oidInt8, 0, 0}},
		{"SELECT 1, *, t.*, 'x'::date FROM t", 6, []uint32{oidInt4, 0, 0, 0, 0, oidDate}},
		{"SELECT 1, *, 2 FROM t", 1, nil}, // fewer columns than items: nothing is sure
		{"SELECT * FROM t", 2, nil},
	} {
		if got := exprTypes(pgsql.Parse(c.sql), c.ncols); !slices.Equal(got, c.want) {
			t.Errorf("%s (%d columns): %v, want %v", c.sql, c.ncols, got, c.want)
		}
	}
}
