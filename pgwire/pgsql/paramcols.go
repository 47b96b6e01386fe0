package pgsql

// This file finds, for the simple statement shapes, the table column a
// parameter is stored in or compared with, as Postgres infers a
// parameter's type from it:
//
//	INSERT INTO t [AS a] (c1, c2, …) VALUES ($1, $2, …)[, (…)]
//	UPDATE t SET c = $1, …
//	… WHERE [t.]c op $1 AND $2 op [t.]c …  (single-table SELECT, UPDATE, DELETE)
//
// with op one of = <> != < <= > >=. Anything else (joins, subqueries, a
// parameter inside an expression) is left unknown.

// ParamColumn is the table column a parameter is stored in or compared
// with; both are empty when the text does not say.
type ParamColumn struct {
	Table  string // as Postgres folds it, without a "public." qualifier
	Column string
}

// Probe is the SQLite text of a query whose one result column is c, for
// its declared type.
func (c ParamColumn) Probe() string {
	return "SELECT " + quoteIdent(c.Column) + " FROM " + quoteIdent(c.Table)
}

// paramColumns sets ParamColumns, for a statement with n parameters.
func (p *parser) paramColumns(n int) {
	st := p.st
	if st.Kind != Read && st.Kind != Write {
		return
	}
	switch p.word(0) {
	case "insert":
		p.insertParamColumns(n)
	case "update":
		p.updateParamColumns(n)
	case "delete":
		// DELETE FROM t [[AS] a] WHERE …
		if p.word(1) != "from" {
			return
		}
		table, alias, next := p.tableRef(2)
		if table != "" && p.word(next) == "where" {
			p.whereParamColumns(n, table, alias, next+1)
		}
	case "select":
		p.selectParamColumns(n)
	}
}

// setParamColumn records that $v (from its token text) goes with column.
func (p *parser) setParamColumn(n, tok int, table, column string) {
	v := paramNumber(p.text(tok))
	if v < 1 || v > n || table == "" || column == "" {
		return
	}
	st := p.st
	if st.ParamColumns == nil {
		st.ParamColumns = make([]ParamColumn, n)
	}
	if st.ParamColumns[v-1].Column == "" {
		st.ParamColumns[v-1] = ParamColumn{Table: table, Column: column}
	}
}

// isIdent reports a word or quoted identifier at token i.
func (p *parser) isIdent(i int) bool {
	k := p.kindAt(i)
	return k == tWord || k == tQIdent
}

// isBareParam reports a $n at token i.
func (p *parser) isBareParam(i int) bool {
	return p.kindAt(i) == tParam && isDigit(p.src[p.toks[i].start+1])
}

// tableRef reads a table reference at token i: [public.]name, then an
// optional [AS] alias. It returns the table ("" when it is no plain
// table), the alias ("" if none) and the token after.
func (p *parser) tableRef(i int) (table, alias string, next int) {
	if !p.isIdent(i) || (p.kindAt(i) == tWord && (clauseWords[p.word(i)] || p.word(i) == "only")) {
		return "", "", i
	}
	if p.isPunct(i+1, '.') {
		if identName(p.text(i)) != "public" || !p.isIdent(i+2) {
			return "", "", i
		}
		i += 2
	}
	table = identName(p.text(i))
	i++
	switch {
	case p.word(i) == "as" && p.isIdent(i+1):
		return table, identName(p.text(i + 1)), i + 2
	case p.kindAt(i) == tQIdent:
		return table, identName(p.text(i)), i + 1
	case p.kindAt(i) == tWord && !clauseWords[p.word(i)]:
		return table, p.word(i), i + 1
	}
	return table, "", i
}

// clauseWords are the words that may follow a table reference and are
// no alias.
var clauseWords = map[string]bool{
	"where": true, "set": true, "using": true, "from": true, "join": true,
	"inner": true, "left": true, "right": true, "full": true, "cross": true,
	"natural": true, "on": true, "order": true, "group": true, "limit": true,
	"offset": true, "returning": true, "for": true, "having": true,
	"window": true, "union": true, "except": true, "intersect": true,
	"fetch": true, "values": true, "default": true, "select": true,
	"overriding": true, "lateral": true, "tablesample": true,
}

// insertParamColumns: INSERT INTO t [AS a] (c1, …) VALUES ($1, …), (…).
func (p *parser) insertParamColumns(n int) {
	if p.word(1) != "into" {
		return
	}
	table, _, i := p.tableRef(2)
	if table == "" || !p.isPunct(i, '(') {
		return
	}
	var cols []string
	for i++; ; i += 2 {
		if !p.isIdent(i) {
			return
		}
		cols = append(cols, identName(p.text(i)))
		if p.isPunct(i+1, ')') {
			i += 2
			break
		}
		if !p.isPunct(i+1, ',') {
			return
		}
	}
	if p.word(i) != "values" {
		return
	}
	for i++; p.isPunct(i, '('); i++ {
		// One row: its items, at depth 1.
		item, start, depth := 0, i+1, 0
		for i++; i < len(p.toks); i++ {
			switch {
			case p.isPunct(i, '('):
				depth++
				continue
			case p.isPunct(i, ')') && depth > 0:
				depth--
				continue
			case depth > 0:
				continue
			case !p.isPunct(i, ',') && !p.isPunct(i, ')'):
				continue
			}
			if i == start+1 && p.isBareParam(start) && item < len(cols) {
				p.setParamColumn(n, start, table, cols[item])
			}
			item++
			start = i + 1
			if p.isPunct(i, ')') {
				break
			}
		}
		if !p.isPunct(i+1, ',') {
			return
		}
		i++
	}
}

// updateParamColumns: UPDATE [ONLY] t [[AS] a] SET c = $1, … [WHERE …].
func (p *parser) updateParamColumns(n int) {
	i := 1
	if p.word(i) == "only" {
		i++
	}
	table, alias, i := p.tableRef(i)
	if table == "" || p.word(i) != "set" {
		return
	}
	// The SET list, up to FROM, WHERE or RETURNING at depth 0.
	depth, start := 0, i+1
	for i++; ; i++ {
		end := i >= len(p.toks)
		w := p.word(i)
		switch {
		case end:
		case p.isPunct(i, '('):
			depth++
			continue
		case p.isPunct(i, ')'):
			depth--
			continue
		case depth > 0:
			continue
		case !p.isPunct(i, ',') && w != "from" && w != "where" && w != "returning":
			continue
		}
		// An item c = $n: tokens start, start+1, start+2.
		if i == start+3 && p.isIdent(start) && p.isOp(start+1, "=") && p.isBareParam(start+2) {
			p.setParamColumn(n, start+2, table, identName(p.text(start)))
		}
		start = i + 1
		if end || w == "returning" || w == "from" {
			// UPDATE … FROM joins other tables: its WHERE is not one
			// table's.
			return
		}
		if w == "where" {
			p.whereParamColumns(n, table, alias, i+1)
			return
		}
	}
}

// selectParamColumns: SELECT … FROM t [[AS] a] WHERE …, one table, no
// subquery, no set operation.
func (p *parser) selectParamColumns(n int) {
	depth := 0
	from := -1
	for i := 1; i < len(p.toks); i++ {
		switch {
		case p.isPunct(i, '('):
			depth++
		case p.isPunct(i, ')'):
			depth--
		case p.word(i) == "select" || p.word(i) == "union" || p.word(i) == "except" || p.word(i) == "intersect":
			return
		case depth == 0 && from < 0 && p.word(i) == "from":
			from = i
		}
	}
	if from < 0 {
		return
	}
	table, alias, i := p.tableRef(from + 1)
	if table != "" && p.word(i) == "where" {
		p.whereParamColumns(n, table, alias, i+1)
	}
}

// whereParamColumns reads the terms [q.]c op $n and $n op [q.]c of the
// condition starting at token i, q being table or alias. A condition with
// a subquery says nothing (its columns may be another table's).
func (p *parser) whereParamColumns(n int, table, alias string, i int) {
	for j := i; j < len(p.toks); j++ {
		if p.word(j) == "select" {
			return
		}
	}
	// column reads a column reference [q.]c at token a: its name ("" when
	// there is none) and the token after it.
	column := func(a int) (string, int) {
		if !p.isIdent(a) || (p.kindAt(a) == tWord && notColumns[p.word(a)]) {
			return "", 0
		}
		if p.isPunct(a+1, '.') {
			q := identName(p.text(a))
			if (q != table && q != alias) || !p.isIdent(a+2) || (alias != "" && q == table && alias != table) {
				return "", 0
			}
			return identName(p.text(a + 2)), a + 3
		}
		return identName(p.text(a)), a + 1
	}
	bounded := func(j int) bool { // a term may start after token j
		if j < i {
			return j == i-1
		}
		return p.isPunct(j, '(') || p.word(j) == "and" || p.word(j) == "or" || p.word(j) == "not"
	}
	ends := func(j int) bool { // a term may end before token j
		if j >= len(p.toks) || p.isPunct(j, ')') {
			return true
		}
		switch p.word(j) {
		case "and", "or", "order", "group", "limit", "offset", "returning", "for", "having", "window", "fetch":
			return true
		}
		return false
	}
	for j := i; j < len(p.toks); j++ {
		if !bounded(j - 1) {
			continue
		}
		if p.isBareParam(j) && compareOps[p.opText(j+1)] {
			if c, end := column(j + 2); c != "" && ends(end) {
				p.setParamColumn(n, j, table, c)
			}
			continue
		}
		if c, end := column(j); c != "" && compareOps[p.opText(end)] && p.isBareParam(end+1) && ends(end+2) {
			p.setParamColumn(n, end+1, table, c)
		}
	}
}

// notColumns are the words a condition uses that name no column.
var notColumns = map[string]bool{
	"true": true, "false": true, "null": true, "not": true, "and": true, "or": true,
	"current_date": true, "current_time": true, "current_timestamp": true,
	"localtime": true, "localtimestamp": true, "current_user": true,
	"session_user": true, "user": true, "exists": true, "case": true, "default": true,
}

// compareOps are the comparisons a parameter takes its column's type from.
var compareOps = map[string]bool{"=": true, "<>": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

// opText is token i's text when it is an operator, else "".
func (p *parser) opText(i int) string {
	if p.kindAt(i) != tOp {
		return ""
	}
	return p.text(i)
}
