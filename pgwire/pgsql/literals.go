package pgsql

// This file finds, in the statement shapes paramcols.go reads for
// parameters, the string literals that are stored in a table column or
// compared with one, as Postgres gives such a literal its column's type
// and reads it with that type's input function:
//
//	INSERT INTO t [AS a] [(c1, c2, …)] VALUES ('x', …)[, (…)]
//	    [ON CONFLICT … DO UPDATE SET c = 'x', …]
//	UPDATE t SET c = 'x', … [WHERE …]
//	… WHERE [t.]c op 'x' AND 'x' op [t.]c AND [t.]c [NOT] IN ('x', 'y') …
//
// with op one of = <> != < <= > >=, in the WHERE of UPDATE and DELETE and
// in the WHERE and ON conditions of a SELECT of plain tables (see
// whereParamColumns). A literal with a cast or in an expression is left
// alone: its type is the one written, or the expression's.
//
// The front end does not know the columns' types. A caller that does
// (pgwire, from the committed schema) converts each literal's Value to its
// column's type, and parses again the text WithLiterals returns, so that
// the statement, and the log entry it becomes, carries the value as the
// type stores it; or refuses the statement with the type's error.

// Literal is a string literal of a statement stored in or compared with
// a table column.
type Literal struct {
	// Column is the literal's column. For an INSERT without a column
	// list, Column.Column is "" and Ordinal is the item's place in its
	// row (0 for the table's first column); it is -1 otherwise.
	Column  ParamColumn
	Ordinal int
	// Value is the literal's value, unquoted.
	Value string
	// Offset is the literal's byte offset in Source, for the position of
	// an error about it.
	Offset int

	start, end int // byte offsets of the token in Source
	row        int // INSERT … VALUES: the row (0-based); -1 otherwise
}

// rareParts is what few statements have (Statement.rare).
type rareParts struct {
	// defaults are the DEFAULT items of an INSERT … VALUES whose column
	// other rows give values (insertdefault.go).
	defaults      []defaultItem
	defaultsTable string
	// literals are what Literals returns.
	literals []Literal
}

// rareParts returns s.rare, made if it was nil.
func (s *Statement) rareParts() *rareParts {
	if s.rare == nil {
		s.rare = &rareParts{}
	}
	return s.rare
}

// Literals are the string literals stored in or compared with a table
// column, in the statements literals.go reads, in the order of the text.
func (s *Statement) Literals() []Literal {
	if s.rare == nil {
		return nil
	}
	return s.rare.literals
}

// Row is the row of an INSERT … VALUES the literal is in (0 for the
// first), -1 for a literal elsewhere.
func (l Literal) Row() int { return l.row }

// WithLiterals returns Source with Literals()[k] replaced by texts[k], a
// Postgres expression, for each k where texts[k] is not "".
func (s *Statement) WithLiterals(texts []string) string {
	b := make([]byte, 0, len(s.Source)+16)
	at := 0
	for k, l := range s.Literals() {
		if k >= len(texts) || texts[k] == "" || l.start < at {
			continue
		}
		b = append(b, s.Source[at:l.start]...)
		// Apart from a word or an operator it would run into
		// (WHERE'x'=b, n<>'-5').
		t := texts[k]
		if l.start > 0 && (isIdentChar(s.Source[l.start-1]) || isOpChar(s.Source[l.start-1])) {
			b = append(b, ' ')
		}
		b = append(b, t...)
		if l.end < len(s.Source) && isIdentChar(s.Source[l.end]) {
			b = append(b, ' ')
		}
		at = l.end
	}
	return string(append(b, s.Source[at:]...))
}

// literalColumns finds the statement's Literals.
func (p *parser) literalColumns() {
	st := p.st
	if st.Err != nil || st.Kind != Read && st.Kind != Write {
		return
	}
	n := 0
	for _, t := range p.toks {
		if t.kind == tString || t.kind == tEString {
			n++
		}
	}
	if n == 0 {
		return
	}
	p.litCap = n
	switch p.word(0) {
	case "insert":
		p.insertLiterals()
	case "update":
		i := 1
		if p.word(i) == "only" {
			i++
		}
		t, i := p.tableNamed(i)
		if t.table == "" || p.word(i) != "set" {
			return
		}
		if end, where := p.setLiterals(t.table, i+1); where {
			p.whereLiterals([]tableName{t}, end+1)
		}
	case "delete":
		if p.word(1) != "from" {
			return
		}
		t, next := p.tableNamed(2)
		if t.table != "" && p.word(next) == "where" {
			p.whereLiterals([]tableName{t}, next+1)
		}
	case "select":
		depth, from := 0, -1
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
			p.whereLiterals(refs, from+1)
		}
	}
}

// stringLit is the value of the string at token i, plain or E-prefixed.
func (p *parser) stringLit(i int) (string, bool) {
	s := p.text(i)
	switch p.kindAt(i) {
	case tString:
		if len(s) < 2 || s[len(s)-1] != '\'' {
			return "", false
		}
		v := s[1 : len(s)-1]
		for k := 0; k < len(v); k++ {
			if v[k] == '\'' {
				return unquoteString(s), true
			}
		}
		return v, true
	case tEString:
		v, msg := unescapeE(s)
		return v, msg == ""
	}
	return "", false
}

// addLiteral records the string at token tok as one for column (or the
// ordinal'th of table, column ""), in row.
func (p *parser) addLiteral(tok int, table, column string, ordinal, row int) {
	v, ok := p.stringLit(tok)
	if !ok || table == "" || column == "" && ordinal < 0 {
		return
	}
	t := p.toks[tok]
	r := p.st.rareParts()
	if r.literals == nil {
		r.literals = make([]Literal, 0, p.litCap)
	}
	r.literals = append(r.literals, Literal{
		Column: ParamColumn{Table: table, Column: column}, Ordinal: ordinal, Value: v,
		Offset: int(t.start), start: int(t.start), end: int(t.end), row: row,
	})
}

// insertLiterals: INSERT INTO t [AS a] [(c1, …)] VALUES ('x', …), (…)
// [ON CONFLICT … DO UPDATE SET c = 'x', …].
func (p *parser) insertLiterals() {
	if p.word(1) != "into" {
		return
	}
	table, _, i := p.tableRef(2)
	if table == "" {
		return
	}
	var buf [16]string
	cols, list := buf[:0], false // the column list, if there is one
	if p.isPunct(i, '(') {
		list = true
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
	}
	if p.word(i) != "values" {
		return
	}
	for row, i := 0, i+1; p.isPunct(i, '('); row++ {
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
			if i == start+1 {
				switch {
				case !list:
					p.addLiteral(start, table, "", item, row)
				case item < len(cols):
					p.addLiteral(start, table, cols[item], -1, row)
				}
			}
			item++
			start = i + 1
			if p.isPunct(i, ')') {
				break
			}
		}
		if i >= len(p.toks) {
			return
		}
		i++
		if p.isPunct(i, ',') {
			i++
			continue
		}
		// ON CONFLICT [(…) | ON CONSTRAINT c] DO UPDATE SET …
		if p.word(i) != "on" || p.word(i+1) != "conflict" {
			return
		}
		for i += 2; i < len(p.toks) && p.word(i) != "do"; i++ {
		}
		if p.word(i+1) == "update" && p.word(i+2) == "set" {
			p.setLiterals(table, i+3)
		}
		return
	}
}

// setLiterals reads the items c = 'x' of a SET list from token i on, up
// to FROM, WHERE or RETURNING at depth 0; it returns the token where the
// list ends and whether a WHERE of the one table follows.
func (p *parser) setLiterals(table string, i int) (end int, where bool) {
	depth, start := 0, i
	for ; ; i++ {
		last := i >= len(p.toks)
		w := p.word(i)
		switch {
		case last:
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
		if i == start+3 && p.isIdent(start) && p.isOp(start+1, "=") {
			p.addLiteral(start+2, table, identName(p.text(start)), -1, -1)
		}
		start = i + 1
		if last || w == "returning" || w == "from" {
			return i, false
		}
		if w == "where" {
			return i, true
		}
	}
}

// whereLiterals reads the terms [q.]c op 'x', 'x' op [q.]c and [q.]c [NOT]
// IN ('x', …) of the conditions from token i on, q naming one of refs, as
// whereParamColumns reads parameters.
func (p *parser) whereLiterals(refs []tableName, i int) {
	if p.word(0) != "select" { // a SELECT's were looked for already
		for j := i; j < len(p.toks); j++ {
			if p.word(j) == "select" {
				return
			}
		}
	}
	r := termReader{p, refs}
	isLit := func(j int) bool { k := p.kindAt(j); return k == tString || k == tEString }
	for j := i; j < len(p.toks); j++ {
		if !r.starts(j - 1) {
			continue
		}
		if isLit(j) && p.isCompare(j+1) {
			if t, c, end := r.column(j + 2); c != "" && r.ends(end) {
				p.addLiteral(j, t, c, -1, -1)
			}
			continue
		}
		t, c, end := r.column(j)
		if c == "" {
			continue
		}
		if p.isCompare(end) && isLit(end+1) && r.ends(end+2) {
			p.addLiteral(end+1, t, c, -1, -1)
			continue
		}
		// c [NOT] IN ('x', 'y', …), every item a string.
		k := end
		if p.word(k) == "not" {
			k++
		}
		if p.word(k) != "in" || !p.isPunct(k+1, '(') {
			continue
		}
		var items []int
		closed := false
		for k += 2; isLit(k) && (p.isPunct(k+1, ',') || p.isPunct(k+1, ')')); k += 2 {
			items = append(items, k)
			if p.isPunct(k+1, ')') {
				closed = true
				break
			}
		}
		if !closed || !r.ends(k+2) {
			continue
		}
		for _, it := range items {
			p.addLiteral(it, t, c, -1, -1)
		}
	}
}
