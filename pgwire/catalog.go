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

// catalogSQL is the SQL the session runs for sql; types is not nil when
// sql reads the catalogs, and gives the types of aliased catalog columns.
func (c *conn) catalogSQL(sql string) (string, map[string]string, *Error) {
	if !catalog.Mentions(sql) {
		return sql, nil, nil
	}
	out, ok, types, err := catalog.RewriteTyped(sql, catalog.Env{User: c.set.vals["session_authorization"], Database: c.database})
	if err != nil {
		code, msg := codeFeatureNotSupported, err.Error()
		if ce, isCE := err.(*catalog.Error); isCE {
			code = ce.Code
		}
		return "", nil, newError(code, msg)
	}
	if ok && types == nil {
		types = map[string]string{}
	}
	return out, types, nil
}

// catalogColumns gives the result columns of a catalog query that SQLite
// leaves untyped (the views' expressions) the types Postgres gives them,
// where a client depends on it: psql reads a boolean as "t" or "f",
// psycopg2 an int2[] as a list.
func catalogColumns(cols []Column, types map[string]string) {
	for i := range cols {
		if cols[i].DeclType == "" {
			name := strings.ToLower(cols[i].Name)
			if t, ok := types[name]; ok {
				cols[i].DeclType = t
			} else {
				cols[i].DeclType = catalog.ColumnType(name)
			}
		}
	}
}
