package catalog

import "strings"

// Enum types (CREATE TYPE … AS ENUM) are rows of pgwire's table
// raftsql_enums: a type's name and its labels, in their order, as a JSON
// array. Where Env.Enums says the table is there, pg_type has a row for
// each type (typtype 'e', typcategory 'E') and pg_enum one for each
// label, added to them in the statement's text as the sequences' rows
// are (no view may read the table where it may not be), and format_type
// names the type. A column of an enum type carries the type's CHECK
// constraint, named EnumCheckPrefix and the type's name, in its table's
// definition; its declared type is the type's name. The column's type is
// the enum type (pg_attribute, information_schema.columns) where both
// say so. The OID of a type is derived from its name (OID, kind "e"); its
// labels' OIDs increase in their order, as those of a type Postgres has
// just made do (SQLAlchemy 1.4 reads the labels in the order of their
// OIDs): one derived from the type's name, rounded down to a multiple of
// 1024, plus the label's place.

// EnumCheckPrefix starts the name of the CHECK constraint of a column of
// an enum type; the type's name follows it.
const EnumCheckPrefix = "raftsql_enum:"

// enumDeclName is the enum type's name a column's declared type (p.type
// of pragma_table_info) gives, without quotes if it has them. It is
// compared ASCII case-insensitively (as OID does): an unquoted name is
// the type's folded to lower case.
const enumDeclName = `(CASE WHEN substr(p.type, 1, 1) = '"' THEN replace(substr(p.type, 2, length(p.type) - 2), '""', '"') ELSE p.type END)`

// enumColumnTest says that column p of table r is of an enum type: the
// table's definition has the CHECK constraint of its declared type.
// SQLite gives a quoted declared type without its quotes, so the name is
// compared as OID compares names, ASCII case-insensitively. A column of
// the type's name without the CHECK, in a table that has the CHECK on
// another column, counts too.
var enumColumnTest = `(instr(r.sql, '"` + EnumCheckPrefix + `') > 0 AND instr(lower(r.sql), lower('"` + EnumCheckPrefix + `' || replace(` +
	enumDeclName + `, '"', '""') || '"')) > 0)`

// enumUDTName is information_schema.columns' udt_name of a column c of an
// enum type, whose type has no row in the view pg_type: its declared type,
// as SQLite gives it (a quoted name without its quotes; an unquoted one as
// written, not folded).
const enumUDTName = `(CASE WHEN substr(c.decl, 1, 1) = '"' THEN replace(substr(c.decl, 2, length(c.decl) - 2), '""', '"') ELSE c.decl END)`

// enumRows are the rows of the relations that list enum types and their
// labels, with the relations' columns.
var enumRows = map[[2]string]string{
	{"pg_catalog", "pg_type"}: `SELECT _pg_oid('e', e.name), e.name, 2200, 10, 4, 1, 'e', 'E', 0, 1, ',', 0, 0, 0, 0,
  'enum_in', 'enum_out', 'enum_recv', 'enum_send', 0, 0, 0, 'i', 'p', 0, 0, -1, 0, 0, NULL, NULL, NULL, {{tableoid}}
FROM main.raftsql_enums e`,
	{"pg_catalog", "pg_enum"}: `SELECT _pg_oid('l', e.name) / 1024 * 1024 + j.key, _pg_oid('e', e.name), j.key + 1.0, j.value, {{tableoid}}
FROM main.raftsql_enums e, json_each(e.labels) j`,
}

// withEnums is the SQLite text that reads a relation, base, with its rows
// for the enum types.
func withEnums(base, rows string) string {
	return "(SELECT * FROM " + base + " UNION ALL " + rows + ")"
}

// enums reports whether the relations that list enum types are to read
// them.
func (r *rewriter) enums() bool { return r.env.Enums != nil && r.env.Enums() }

// onceEnums is env with an Enums that asks env's at most once.
func (env Env) onceEnums() Env {
	f := env.Enums
	if f == nil {
		return env
	}
	asked, has := false, false
	env.Enums = func() bool {
		if !asked {
			asked, has = true, f()
		}
		return has
	}
	return env
}

// enumFormatType is format_type(oid, mod) that names enum types too.
func enumFormatType(oid, mod string) string {
	name := "(SELECT CASE WHEN _e.name GLOB '[a-z_]*' AND NOT _e.name GLOB '*[^a-z0-9_]*' THEN _e.name ELSE '\"' || replace(_e.name, '\"', '\"\"') || '\"' END" +
		" FROM main.raftsql_enums _e WHERE _pg_oid('e', _e.name) = " + oid + ")"
	return "coalesce(" + name + ", format_type(" + oid + ", " + strings.TrimSpace(mod) + "))"
}
