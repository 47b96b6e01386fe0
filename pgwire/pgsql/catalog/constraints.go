package catalog

import "strings"

// The names of constraints, for the server to name the one a statement
// violated as the catalog relations name it. The queries read the same
// helper views as pg_constraint and pg_indexes, so a name in an error is
// the name those show.

// Query is a statement over the catalog's views. The names it looks for
// are literals in its text, not parameters: measured, SQLite runs it
// about ten times faster so (docs/BENCHMARKS.md).
type Query struct {
	SQL string
}

// bind replaces ?1, ?2 … in sql with the literals of args (strings, or
// bools as 1 and 0), highest number first so that ?1 leaves ?10 alone.
func bind(sql string, args ...any) Query {
	for i := len(args) - 1; i >= 0; i-- {
		var lit string
		switch a := args[i].(type) {
		case string:
			lit = quoteString(a)
		case bool:
			lit = "0"
			if a {
				lit = "1"
			}
		}
		sql = strings.ReplaceAll(sql, "?"+itoa(i+1), lit)
	}
	return Query{SQL: sql}
}

// UniqueQuery finds the unique index or key of table whose columns are
// cols, in order, all spelled as the schema spells them (as SQLite's
// messages do): its rows are the table's and the constraint's names and
// the table's columns in order (joined by ", ", for an INSERT without a
// column list), the primary key first when primary is true, a full index
// before a partial one. The table's name is compared exactly, and on the index columns
// too, so that SQLite reads the indexes of that table alone.
func UniqueQuery(table string, cols []string, primary bool) Query {
	return bind(`SELECT x.tbl, x.name, `+tableColumns+` FROM _pg_idx x
WHERE x.tbl = ?1 AND x.uniq
  AND (SELECT group_concat(c.col, ', ' ORDER BY c.seq) FROM _pg_idxcol c WHERE c.tbl = ?1 AND c.idxoid = x.oid) = ?2
ORDER BY (x.origin = 'pk') = ?3 DESC, x.partial LIMIT 1`, table, strings.Join(cols, ", "), primary)
}

// IndexQuery finds the index SQLite calls name, spelled as the schema
// does (an index on expressions): its rows are the table's and the
// index's names, and the table's columns as UniqueQuery gives them.
func IndexQuery(name string) Query {
	return bind(`SELECT x.tbl, x.name, `+tableColumns+` FROM _pg_idx x WHERE x.sqlite_name = ?1 LIMIT 1`, name)
}

// tableColumns is the columns of the table x.tbl, in order, joined by ", ".
const tableColumns = `(SELECT group_concat(p.name, ', ' ORDER BY p.cid) FROM pragma_table_info(x.tbl, 'main') p)`

// ForeignKeysQuery lists the foreign keys of table, and when referencing
// is true those that reference it too (which reads every table's keys):
// each row is the referencing table, the constraint's name, the referenced
// table, the ON UPDATE and ON DELETE actions (upper case, "NO ACTION"
// when none is declared), the referencing and referenced columns, and
// the referencing table's columns in order when it is table (each joined
// by ", "; read only for those rows).
func ForeignKeysQuery(table string, referencing bool) Query {
	cols := `SELECT f.tbl, f.name, f.reftbl, coalesce(upper(f.on_update), 'NO ACTION'), coalesce(upper(f.on_delete), 'NO ACTION'),
  f.cols, f.refcols, CASE WHEN f.tbl = ?1 COLLATE NOCASE THEN ` + strings.ReplaceAll(tableColumns, "x.tbl", "f.tbl") + ` END
FROM _pg_fk f `
	if !referencing {
		return bind(cols+`WHERE f.tbl = ?1 COLLATE NOCASE ORDER BY f.id`, table)
	}
	return bind(cols+`WHERE f.tbl = ?1 COLLATE NOCASE OR f.reftbl = ?1 COLLATE NOCASE ORDER BY f.tbl, f.id`, table)
}

// TableQuery gives table's name as created and its CREATE TABLE text
// (one row), and then its columns' names (one row each, the text NULL),
// for CheckName.
func TableQuery(table string) Query {
	return bind(`SELECT r.name, r.sql FROM _pg_rel r WHERE r.name = ?1 COLLATE NOCASE AND r.type = 'table'
UNION ALL SELECT p.name, NULL FROM _pg_rel r, pragma_table_info(r.name, 'main') p
WHERE r.name = ?1 COLLATE NOCASE AND r.type = 'table'`, table)
}

// CheckName names the CHECK constraint of a table that SQLite reported as
// failed: failed is what SQLite says of it, the constraint's name when it
// was given one, else its expression. createSQL is the table's CREATE
// TABLE text and columns its columns. An unnamed constraint gets the name
// Postgres gives it: TABLE_COLUMN_check when its expression uses one
// column, TABLE_check otherwise, with a number after it when an earlier
// constraint of the table has that name already. ok is false when the
// table has no such constraint (a trigger's statement on another table
// failed).
func CheckName(table, createSQL string, columns []string, failed string) (name string, ok bool) {
	want := normalize(lex(failed))
	used := map[string]bool{}
	var found string
	toks := significant(lex(createSQL))
	for i := 0; i < len(toks); i++ {
		if !toks[i].is("CHECK") || i+1 >= len(toks) || !toks[i+1].isOp("(") {
			continue
		}
		end := closing(toks, i+1)
		expr := toks[i+2 : end]
		var name string
		named := i >= 2 && toks[i-2].is("CONSTRAINT")
		if named {
			name = unquote(toks[i-1])
			if toks[i-1].kind == tIdent {
				name = toks[i-1].text
			}
		} else {
			name = uniqueName(table+"_"+checkColumn(expr, columns)+"check", used)
		}
		used[strings.ToLower(name)] = true
		if found == "" && (named && strings.EqualFold(name, strings.TrimSpace(failed)) ||
			!named && normalize(expr) == want) {
			found = name
		}
		i = end
	}
	return found, found != ""
}

// checkColumn is "COLUMN_" when expr uses exactly one of columns, else "".
func checkColumn(expr []token, columns []string) string {
	var one string
	for j, t := range expr {
		if t.kind != tIdent && t.kind != tQIdent || j+1 < len(expr) && expr[j+1].isOp("(") {
			continue
		}
		n := t.text
		if t.kind == tQIdent {
			n = unquote(t)
		}
		for _, c := range columns {
			if strings.EqualFold(c, n) {
				if one != "" && !strings.EqualFold(one, c) {
					return ""
				}
				one = c
			}
		}
	}
	if one == "" {
		return ""
	}
	return one + "_"
}

// uniqueName is base, or base followed by the first number that makes it
// one that used does not hold, as Postgres' ChooseConstraintName does.
func uniqueName(base string, used map[string]bool) string {
	name := base
	for n := 1; used[strings.ToLower(name)]; n++ {
		name = base + itoa(n)
	}
	return name
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// significant drops white space and comments.
func significant(toks []token) []token {
	out := toks[:0:0]
	for _, t := range toks {
		if t.kind != tSpace {
			out = append(out, t)
		}
	}
	return out
}

// closing is the index of the ')' that closes the '(' at open, or
// len(toks).
func closing(toks []token, open int) int {
	depth := 0
	for j := open; j < len(toks); j++ {
		switch {
		case toks[j].isOp("("):
			depth++
		case toks[j].isOp(")"):
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return len(toks)
}

// normalize is an expression's tokens without white space, for comparing
// two texts of it.
func normalize(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		if t.kind == tSpace {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	return b.String()
}
