package pgwire

import (
	"strings"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// withColumnDefaults is st, a multi-row INSERT … VALUES the front end
// refused because some rows give DEFAULT for a column that others give a
// value, with each such DEFAULT replaced by the column's default as the
// table declares it (pragma_table_info), or NULL for a column without
// one; st itself when it is no such statement or the table cannot be read.
func (c *conn) withColumnDefaults(st *pgsql.Statement) *pgsql.Statement {
	table, _, ok := st.DefaultsWanted()
	if !ok {
		return st
	}
	res, e := c.execute("SELECT name, dflt_value FROM pragma_table_info($1)", []any{bare(table)})
	if e != nil || len(res.Rows) == 0 {
		return st
	}
	exprs := map[string]string{}
	for _, row := range res.Rows {
		name, _ := row[0].(string)
		if d, ok := row[1].(string); ok {
			exprs[strings.ToLower(name)] = d
		}
	}
	return c.srv.stmts.Parse(st.WithDefaults(exprs))
}
