package pgsql

// This file finds, for the simple statement shapes, the table column a
// parameter is stored in or compared with, as Postgres infers a
// parameter's type from it:
//
//	INSERT INTO t [AS a] (c1, c2, …) VALUES ($1, $2, …)[, (…)]
//	UPDATE t SET c = $1, …
//	… WHERE [t.]c op $1 AND $2 op [t.]c …  (SELECT, UPDATE, DELETE)
//
// with op one of = <> != < <= > >=, in the WHERE of a single-table UPDATE
// or DELETE, and in the WHERE and the joins' ON conditions of a SELECT
// of plain tables (a column of a join qualified by its table or alias).
// Anything else (subqueries, set operations, a parameter inside an
// expression, UPDATE … FROM, DELETE … USING) is left unknown.

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

// paramColumns sets the Column of Params, for a statement with n parameters.
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
		t, next := p.tableNamed(2)
		if t.table != "" && p.word(next) == "where" {
			p.whereParamColumns(n, []tableName{t}, next+1)
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
	if st.Params == nil {
		st.Params = make([]Param, n)
	}
	if st.Params[v-1].Column.Column == "" {
		st.Params[v-1].Column = ParamColumn{Table: table, Column: column}
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
	if !p.isIdent(i) || (p.kindAt(i) == tWord && (clauseWord(p.word(i)) || p.word(i) == "only")) {
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
	case p.kindAt(i) == tWord && !clauseWord(p.word(i)):
		return table, p.word(i), i + 1
	}
	return table, "", i
}

// clauseWord reports a word that may follow a table reference and is no
// alias.
func clauseWord(w string) bool {
	switch w {
	case "where", "set", "using", "from", "join", "inner", "left", "right", "full",
		"cross", "natural", "on", "order", "group", "limit", "offset", "returning",
		"for", "having", "window", "union", "except", "intersect", "fetch", "values",
		"default", "select", "overriding", "lateral", "tablesample":
		return true
	}
	return false
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
	// The column list: column k is token cols+2k.
	cols, ncols := i+1, 0
	for i++; ; i += 2 {
		if !p.isIdent(i) {
			return
		}
		ncols++
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
			if i == start+1 && p.isBareParam(start) && item < ncols {
				p.setParamColumn(n, start, table, identName(p.text(cols+2*item)))
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
	t, i := p.tableNamed(i)
	if t.table == "" || p.word(i) != "set" {
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
			p.setParamColumn(n, start+2, t.table, identName(p.text(start)))
		}
		start = i + 1
		if end || w == "returning" || w == "from" {
			// UPDATE … FROM joins other tables: its WHERE is not one
			// table's.
			return
		}
		if w == "where" {
			p.whereParamColumns(n, []tableName{t}, i+1)
			return
		}
	}
}

// selectParamColumns: SELECT … FROM t [[AS] a] [, u … | [LEFT …] JOIN u …
// ON …] WHERE …, with no subquery and no set operation.
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
	var buf [4]tableName
	refs, i := p.fromList(from+1, buf[:0])
	if refs != nil && (i >= len(p.toks) || p.word(i) == "where" || conditionEnd(p.word(i))) {
		// The terms of the joins' ON conditions and of WHERE.
		p.whereParamColumns(n, refs, from+1)
	}
}

// tableName is a table of a FROM list: the name that qualifies its
// columns (its alias, or its own) and the table.
type tableName struct{ name, table string }

func (p *parser) tableNamed(i int) (t tableName, next int) {
	table, alias, next := p.tableRef(i)
	if alias == "" {
		alias = table
	}
	return tableName{alias, table}, next
}

// fromList appends to refs the tables of a FROM list at token i, listed
// with commas or joined; it returns nil when an item is no plain table.
func (p *parser) fromList(i int, refs []tableName) ([]tableName, int) {
	for {
		t, j := p.tableNamed(i)
		if t.table == "" {
			return nil, i
		}
		refs = append(refs, t)
		i = j
		if p.word(i) == "on" || p.word(i) == "using" {
			// The join's condition, to the next item.
			for depth := 0; i < len(p.toks); i++ {
				if p.isPunct(i, '(') {
					depth++
				} else if p.isPunct(i, ')') {
					depth--
				} else if depth == 0 && (p.isPunct(i, ',') || p.joinEnd(i) > i || p.word(i) == "where" || conditionEnd(p.word(i))) {
					break
				}
			}
		}
		if p.isPunct(i, ',') {
			i++
			continue
		}
		if j := p.joinEnd(i); j > i {
			i = j
			continue
		}
		return refs, i
	}
}

// joinEnd returns the token after the words of a join at token i
// ([NATURAL] [INNER | CROSS | {LEFT | RIGHT | FULL} [OUTER]] JOIN), i when
// there is none.
func (p *parser) joinEnd(i int) int {
	j := i
	if p.word(j) == "natural" {
		j++
	}
	switch p.word(j) {
	case "inner", "cross":
		j++
	case "left", "right", "full":
		j++
		if p.word(j) == "outer" {
			j++
		}
	}
	if p.word(j) != "join" {
		return i
	}
	return j + 1
}

// whereParamColumns reads the terms [q.]c op $n and $n op [q.]c of the
// conditions from token i on, q naming one of refs (an unqualified c is
// the one table's, when there is one). A condition with a subquery says
// nothing (its columns may be another table's).
func (p *parser) whereParamColumns(n int, refs []tableName, i int) {
	for j := i; j < len(p.toks); j++ {
		if p.word(j) == "select" {
			return
		}
	}
	r := termReader{p, refs}
	for j := i; j < len(p.toks); j++ {
		if !r.starts(j - 1) {
			continue
		}
		if p.isBareParam(j) && p.isCompare(j+1) {
			if t, c, end := r.column(j + 2); c != "" && r.ends(end) {
				p.setParamColumn(n, j, t, c)
			}
			continue
		}
		if t, c, end := r.column(j); c != "" && p.isCompare(end) && p.isBareParam(end+1) && r.ends(end+2) {
			p.setParamColumn(n, end+1, t, c)
		}
	}
}

// termReader reads the terms of a WHERE or ON condition, for the
// parameters and literals compared with columns: column references [q.]c,
// q naming one of refs (an unqualified c is the one table's, when there is
// one), and where a term may start and end.
type termReader struct {
	p    *parser
	refs []tableName
}

// column reads a column reference [q.]c at token a: its table and name
// ("" when there is none) and the token after it.
func (r termReader) column(a int) (table, col string, next int) {
	p := r.p
	if !p.isIdent(a) || (p.kindAt(a) == tWord && notColumn(p.word(a))) {
		return "", "", 0
	}
	if !p.isPunct(a+1, '.') {
		if len(r.refs) != 1 {
			return "", "", 0
		}
		return r.refs[0].table, identName(p.text(a)), a + 1
	}
	if !p.isIdent(a + 2) {
		return "", "", 0
	}
	q := identName(p.text(a))
	for _, ref := range r.refs {
		if ref.name == q {
			return ref.table, identName(p.text(a + 2)), a + 3
		}
	}
	return "", "", 0
}

// starts reports whether a term may start after token j.
func (r termReader) starts(j int) bool {
	switch r.p.word(j) {
	case "where", "on", "and", "or", "not":
		return true
	}
	return r.p.isPunct(j, '(')
}

// ends reports whether a term may end before token j.
func (r termReader) ends(j int) bool {
	p := r.p
	if j >= len(p.toks) || p.isPunct(j, ')') || p.joinEnd(j) > j {
		return true
	}
	w := p.word(j)
	return w == "and" || w == "or" || w == "where" || conditionEnd(w)
}

// conditionEnd reports a word that ends a WHERE (or ON) condition.
func conditionEnd(w string) bool {
	switch w {
	case "order", "group", "limit", "offset", "returning", "for", "having", "window", "fetch":
		return true
	}
	return false
}

// notColumn reports a word a condition uses that names no column.
func notColumn(w string) bool {
	switch w {
	case "true", "false", "null", "not", "and", "or", "current_date", "current_time",
		"current_timestamp", "localtime", "localtimestamp", "current_user",
		"session_user", "user", "exists", "case", "default":
		return true
	}
	return false
}

// isCompare reports at token i a comparison a parameter takes its
// column's type from.
func (p *parser) isCompare(i int) bool {
	if p.kindAt(i) != tOp {
		return false
	}
	switch p.text(i) {
	case "=", "<>", "!=", "<", "<=", ">", ">=":
		return true
	}
	return false
}
