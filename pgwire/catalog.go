package pgwire

import (
	"github.com/raftsql/raftsql/pgwire/pgsql"
	"strings"

	"github.com/raftsql/raftsql/pgwire/pgsql/catalog"
)

// This file is where statements meet the Postgres catalogs: a statement
// that reads pg_catalog or information_schema, or calls the functions
// tools call on them, is rewritten by package catalog into SQLite SQL over
// the catalog views every read connection of the server holds, and then
// runs as any other read. It is one function so that the statement front
// end can take its place.

// catalogStatement is the statement the session runs for st: when st is
// a read of the catalogs, or calls the functions tools call on them, the
// catalog rewrite's SQLite text, with the types of the result columns the
// rewrite knows (never nil then); otherwise st itself, as the front end
// translated it. A write never goes through the rewrite: its text (a value
// that says 'version', say) is the front end's alone.
func (c *conn) catalogStatement(st *pgsql.Statement) (*pgsql.Statement, map[string]string, *Error) {
	if st.Explain != nil {
		// The front end refused the plan of a catalog query; any other
		// plan is SQLite's.
		return st, nil, nil
	}
	if len(st.Advisory) > 0 {
		// Advisory lock calls, which the session answers, whatever
		// set_config their Prelude calls.
		return st, nil, nil
	}
	if st.Kind != pgsql.CatalogRead && (st.Kind != pgsql.Read || !catalog.Mentions(st.Source) ||
		!catalog.Mentions(frontEndNames.Replace(strings.ToLower(st.Source)))) {
		return st, nil, nil
	}
	env := catalog.Env{User: c.set.vals["session_authorization"], Database: c.database, PID: c.pid,
		TimeZone: c.set.vals["timezone"], ServerVersion: c.set.vals["server_version"], VersionNum: c.set.vals["server_version_num"],
		Sequences: func() bool {
			has, e := c.hasSequenceTable()
			return e == nil && has
		},
		Enums: c.enumTypesExist}
	out, ok, types, err := catalog.RewriteTyped(st.Source, env)
	if err != nil {
		code, msg := codeFeatureNotSupported, err.Error()
		if ce, isCE := err.(*catalog.Error); isCE {
			code = ce.Code
		}
		return nil, nil, newError(code, msg)
	}
	if !ok {
		return st, nil, nil
	}
	if types == nil {
		types = map[string]string{}
	}
	// Parsed like any statement (its text is SQLite's, which the front end
	// leaves as it is) for its result columns' names and types.
	return pgsql.Parse(out), types, nil
}

// frontEndNames are names catalog.Mentions looks for that the front end
// translates itself: a read that mentions only these is the front end's.
var frontEndNames = strings.NewReplacer("current_user", "            ", "session_user", "            ")

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

// postgresNames gives the result columns of a statement the catalog
// rewrite ran the names Postgres gives them, as the front end read them
// from the client's text (current_database(), not the literal the
// rewrite put in its place), and bool or int8 where it knows a function
// gives one (pg_table_is_visible, pg_table_size) and text where the
// client's text casts to it
// (c.reloftype::regtype::text, a CASE named after such an ELSE), and
// regclass or regtype where it casts to one (conrelid::regclass, which
// the rewrite shows as the relation's name), when it lists as many
// columns: a column so named is no catalog column of its name's type.
// Other types stay the rewrite's.
func postgresNames(cols []Column, orig *pgsql.Statement) {
	if orig == nil || len(orig.Columns) != len(cols) {
		return
	}
	for i := range cols {
		cols[i].Name = orig.Columns[i].Name
		if t := orig.Columns[i].Type; cols[i].DeclType == "" && (t == "bool" || t == "text" || t == "int8" || t == "regclass" || t == "regtype") {
			cols[i].DeclType = orig.Columns[i].Type
		}
	}
}
