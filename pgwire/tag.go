package pgwire

import (
	"strconv"
	"strings"
)

// commandTag returns the CommandComplete tag for a statement that ran:
// res.Tag when the session chose one, else a tag derived from the
// statement's leading keywords, with the row count Postgres puts in it.
// rowsSent is the number of rows sent for the statement.
func commandTag(sql string, res *Result, rowsSent int64) string {
	if res != nil && res.Tag != "" {
		return res.Tag
	}
	var affected int64
	hasRows := false
	if res != nil {
		affected = res.RowsAffected
		hasRows = res.Columns != nil
		if affected == 0 && len(res.Rows) > 0 {
			affected = int64(len(res.Rows))
		}
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	verb := mainVerb(sql)
	switch verb {
	case "SELECT", "VALUES", "TABLE", "EXPLAIN", "SHOW", "FETCH":
		if verb == "SELECT" && isSelectInto(sql) {
			return "SELECT " + n(affected)
		}
		if verb == "SHOW" {
			return "SHOW"
		}
		return "SELECT " + n(rowsSent)
	case "INSERT", "REPLACE":
		return "INSERT 0 " + n(affected)
	case "UPDATE", "DELETE", "MERGE":
		return verb + " " + n(affected)
	case "PRAGMA":
		if hasRows {
			return "SELECT " + n(rowsSent)
		}
		return "PRAGMA"
	case "BEGIN", "START":
		return "BEGIN"
	case "COMMIT", "END":
		return "COMMIT"
	case "ROLLBACK", "ABORT":
		return "ROLLBACK"
	case "TRUNCATE":
		return "TRUNCATE TABLE"
	case "COPY":
		return "COPY " + n(affected)
	case "CREATE", "DROP", "ALTER":
		return verb + " " + objectKind(sql)
	case "":
		return ""
	}
	return verb
}

// isSelectInto reports SELECT … INTO, which Postgres tags like CREATE TABLE
// AS: "SELECT n" with the rows written.
func isSelectInto(sql string) bool {
	l := newLexer(sql)
	depth := 0
	for {
		t, ok := l.nextSignificant()
		if !ok {
			return false
		}
		switch {
		case t.kind == tkPunct && sql[t.start] == '(':
			depth++
		case t.kind == tkPunct && sql[t.start] == ')':
			depth--
		case t.kind == tkWord && depth == 0:
			switch strings.ToUpper(sql[t.start:t.end]) {
			case "INTO":
				return true
			case "FROM", "WHERE", "UNION":
				return false
			}
		}
	}
}

// objectKind returns the object of CREATE/DROP/ALTER: "TABLE", "INDEX",
// "VIEW"… skipping modifiers (OR REPLACE, TEMP, UNIQUE, VIRTUAL…). Unlike
// Postgres, which tags CREATE TABLE … AS with "SELECT n", pgwire answers
// "CREATE TABLE" for it.
func objectKind(sql string) string {
	words := leadingWords(sql, 6)
	for i := 1; i < len(words); i++ {
		switch w := words[i]; w {
		case "OR", "REPLACE", "TEMP", "TEMPORARY", "UNIQUE", "VIRTUAL", "UNLOGGED", "GLOBAL", "LOCAL", "MATERIALIZED", "RECURSIVE":
			continue
		case "TABLE", "INDEX", "VIEW", "TRIGGER", "SCHEMA", "SEQUENCE", "FUNCTION", "TYPE", "DATABASE", "EXTENSION", "ROLE", "USER", "DOMAIN", "PROCEDURE", "AGGREGATE":
			if i > 0 && words[i-1] == "MATERIALIZED" && w == "VIEW" {
				return "MATERIALIZED VIEW"
			}
			return w
		default:
			return w
		}
	}
	return "TABLE"
}
