package pgwire

import (
	"strings"

	"github.com/raftsql/raftsql/pgwire/pgsql/catalog"
)

// This file is where statements meet the Postgres catalogs: a statement
// that reads pg_catalog or information_schema, or calls the functions
// tools call on them, is rewritten by package catalog into SQLite SQL over
// the catalog views every read connection of the server holds, and then
// runs as any other read. It is one function so that the statement front
// end can take its place.

// catalogSQL is the SQL the session runs for sql, and whether it reads the
// catalogs.
func (c *conn) catalogSQL(sql string) (string, bool, *Error) {
	if !catalog.Mentions(sql) {
		return sql, false, nil
	}
	out, ok, err := catalog.Rewrite(sql, catalog.Env{User: c.set.vals["session_authorization"], Database: c.database})
	if err != nil {
		code, msg := codeFeatureNotSupported, err.Error()
		if ce, isCE := err.(*catalog.Error); isCE {
			code = ce.Code
		}
		return "", true, newError(code, msg)
	}
	return out, ok, nil
}

// catalogColumns gives the result columns of a catalog query that SQLite
// leaves untyped (the views' expressions) the types Postgres gives them,
// where a client depends on it: psql reads a boolean as "t" or "f".
func catalogColumns(cols []Column) {
	for i := range cols {
		if cols[i].DeclType == "" {
			cols[i].DeclType = catalog.ColumnType(strings.ToLower(cols[i].Name))
		}
	}
}
