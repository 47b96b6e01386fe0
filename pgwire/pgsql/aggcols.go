package pgsql

// This file finds the result columns of a SELECT whose Postgres type is a
// function of a table column's declared type, which only the schema can
// tell (the text says max(ts), not what ts is):
//
//	max(c), min(t.c), sum(DISTINCT c), avg(c) [FILTER (WHERE …)] [OVER …] [[AS] alias]
//	lag(c[, n]), lead, first_value, last_value, nth_value(c, n) OVER …
//	coalesce(max(c), 0), lag(c, 1, 0) OVER …
//
// over a FROM of plain tables, listed with commas or joined, each with an
// optional alias: a qualified column is its table's, an unqualified one
// the column of that name of whichever table has one. A column of a
// subquery, of a common table expression, of a set operation, or in an
// expression (max(c) + 1, max(c + 1)) is left untyped, as before.

// Aggregates are the result columns of a SELECT that are an aggregate or
// window function of a table column (aggcols.go).
type Aggregates struct {
	// Columns are the table columns to ask the declared types of, each
	// once.
	Columns []ParamColumn
	Items   []Aggregate
}

// Aggregate is a result column that is an aggregate or window function of
// a table column.
type Aggregate struct {
	Result int    // the result column: an index into Statement.Columns
	Func   string // lower-case: min, max, sum, avg, lag, lead, first_value, last_value, nth_value
	// Args index Aggregates.Columns: the column the argument names, or,
	// for an unqualified name over several tables, each table's column of
	// that name, of which exactly one may exist.
	Args []int
	// With is the type of a literal the call's value is combined with:
	// coalesce's second argument, the default of lag and lead ("int4",
	// "int8", "numeric", or "unknown" for a string or NULL); "" for none.
	With string
}

// Type is the Postgres type of the result column a, given the Postgres
// types of Aggregates.Columns as their declarations make them ("" for
// one the schema does not describe); "" when it does not follow from them.
func (a Aggregate) Type(types []string) string {
	arg := ""
	for _, k := range a.Args {
		if k < 0 || k >= len(types) || types[k] == "" {
			continue
		}
		if arg != "" {
			return "" // ambiguous: SQLite refuses the statement
		}
		arg = types[k]
	}
	if arg == "" {
		return ""
	}
	t := AggregateType(a.Func, arg)
	if t == "" || a.With == "" {
		return t
	}
	return commonType(t, a.With)
}

// AggregateType is the type Postgres gives a call of the aggregate or
// window function fn whose argument is of type arg, "" when Postgres has
// no such function for arg (max(bool), sum(text)) or pgsql does not say.
func AggregateType(fn, arg string) string {
	switch fn {
	case "min", "max":
		switch arg {
		case "int2", "int4", "int8", "float4", "float8", "numeric", "date", "time", "timestamp",
			"timestamptz", "text", "bpchar":
			return arg
		case "varchar", "name":
			return "text" // max(text), by the implicit cast
		}
	case "sum":
		switch arg {
		case "int2", "int4":
			return "int8"
		case "int8", "numeric":
			return "numeric"
		case "float4", "float8":
			return arg
		}
	case "avg":
		switch arg {
		case "int2", "int4", "int8", "numeric":
			return "numeric"
		case "float4", "float8":
			return "float8"
		}
	case "lag", "lead", "first_value", "last_value", "nth_value":
		return arg
	}
	return ""
}

// numericRank orders the numeric types as Postgres' implicit casts do:
// each casts implicitly to every later one.
var numericRank = map[string]int{"int2": 1, "int4": 2, "int8": 3, "numeric": 4, "float4": 5, "float8": 6}

// commonType is the type Postgres resolves a value of type t and a literal
// of type lit to (coalesce, a lag's default): an untyped literal takes
// t; numbers the wider of the two; "" for anything else.
func commonType(t, lit string) string {
	if lit == "unknown" {
		return t
	}
	a, b := numericRank[t], numericRank[lit]
	switch {
	case a == 0 || b == 0:
		return ""
	case a >= b:
		return t
	}
	return lit
}

// aggItem is a select-list item that is a function of a column, before
// its table is known.
type aggItem struct {
	result    int
	fn        string
	qualifier string // the table or alias written before the column, "" if none
	column    string
	with      string
}

// aggregateItem reads the select-list item of tokens [a, b), result column
// col, when it is one of the shapes this file types.
func (p *parser) aggregateItem(a, b, col int) (aggItem, bool) {
	if p.word(a) == "coalesce" && p.isPunct(a+1, '(') {
		// coalesce(call, literal)
		end := p.matchParen(a + 1)
		if end < 0 || !p.itemEnds(end+1, b) {
			return aggItem{}, false
		}
		it, next, ok := p.aggregateCall(a+2, end)
		if !ok || next >= end || !p.isPunct(next, ',') || it.with != "" {
			return aggItem{}, false
		}
		lit, after := p.literalType(next + 1)
		if lit == "" || after != end {
			return aggItem{}, false
		}
		it.with, it.result = lit, col
		return it, true
	}
	it, next, ok := p.aggregateCall(a, b)
	if !ok || !p.itemEnds(next, b) {
		return aggItem{}, false
	}
	it.result = col
	return it, true
}

// itemEnds reports whether tokens [i, b) are nothing or an alias: AS name,
// or a bare name.
func (p *parser) itemEnds(i, b int) bool {
	switch b - i {
	case 0:
		return true
	case 1:
		return p.kindAt(i) == tQIdent || p.kindAt(i) == tWord && !reservedAfter[p.word(i)] && !notPrimary[p.word(i)]
	case 2:
		return p.word(i) == "as" && p.isIdent(i+1)
	}
	return false
}

// aggregateCall reads a call at token a, before token b: fn([DISTINCT |
// ALL] column[, more]) [FILTER (…)] [OVER (…) | OVER name]. It returns
// the call and the token after it.
func (p *parser) aggregateCall(a, b int) (aggItem, int, bool) {
	fn := p.word(a)
	if AggregateType(fn, "int4") == "" || !p.isPunct(a+1, '(') {
		return aggItem{}, 0, false
	}
	closeAt := p.matchParen(a + 1)
	if closeAt < 0 || closeAt >= b {
		return aggItem{}, 0, false
	}
	i := a + 2
	window := false
	switch fn {
	case "lag", "lead", "first_value", "last_value", "nth_value":
		window = true
	default:
		if w := p.word(i); w == "distinct" || w == "all" {
			i++
		}
	}
	// The column: c, q.c or public.q.c.
	start := i
	for i < closeAt && p.isIdent(i) {
		i++
		if !p.isPunct(i, '.') {
			break
		}
		i++
	}
	if !p.isNameChain(start, i) || (p.kindAt(start) == tWord && (notPrimary[p.word(start)] || notColumn(p.word(start)))) {
		return aggItem{}, 0, false
	}
	it := aggItem{fn: fn, column: identName(p.text(i - 1))}
	switch i - start {
	case 1:
	case 3:
		it.qualifier = identName(p.text(start))
	case 5:
		if identName(p.text(start)) != "public" {
			return aggItem{}, 0, false
		}
		it.qualifier = identName(p.text(start + 2))
	default:
		return aggItem{}, 0, false
	}
	// What follows the column inside the parentheses.
	switch {
	case i == closeAt:
		if fn == "nth_value" {
			return aggItem{}, 0, false
		}
	case !window || !p.isPunct(i, ','):
		return aggItem{}, 0, false // max(c ORDER BY …), max(c, d): SQLite's scalar max
	case fn == "first_value" || fn == "last_value":
		return aggItem{}, 0, false
	default:
		// The offset (lag, lead, nth_value), then lag's or lead's default.
		if p.kindAt(i+1) != tNumber {
			return aggItem{}, 0, false
		}
		i += 2
		if i < closeAt {
			if fn == "nth_value" || !p.isPunct(i, ',') {
				return aggItem{}, 0, false
			}
			lit, after := p.literalType(i + 1)
			if lit == "" || after != closeAt {
				return aggItem{}, 0, false
			}
			it.with = lit
		}
	}
	j := closeAt + 1
	if p.word(j) == "filter" && p.isPunct(j+1, '(') && !window {
		k := p.matchParen(j + 1)
		if k < 0 || k >= b {
			return aggItem{}, 0, false
		}
		j = k + 1
	}
	if p.word(j) == "over" {
		switch {
		case p.isPunct(j+1, '('):
			k := p.matchParen(j + 1)
			if k < 0 || k >= b {
				return aggItem{}, 0, false
			}
			j = k + 1
		case p.isIdent(j + 1):
			j += 2
		default:
			return aggItem{}, 0, false
		}
	} else if window {
		return aggItem{}, 0, false
	}
	if j > b {
		return aggItem{}, 0, false
	}
	return it, j, true
}

// literalType reads a literal at token i: a number (with a sign), a
// string or NULL. It returns its Postgres type ("unknown" for a string
// or NULL, "" for no literal) and the token after it.
func (p *parser) literalType(i int) (string, int) {
	if p.isOp(i, "-") || p.isOp(i, "+") {
		if p.kindAt(i+1) != tNumber {
			return "", i
		}
		i++
	}
	switch p.kindAt(i) {
	case tNumber:
		c := p.nameItemExpr(i, i+1)
		return c.Type, i + 1
	case tString:
		return "unknown", i + 1
	}
	if p.word(i) == "null" {
		return "unknown", i + 1
	}
	return "", i
}

// resolveAggregates sets Statement.Aggregates from the items found in the
// select list, which the SELECT at token sel starts and its top-level FROM
// at token from follows (-1: none).
func (p *parser) resolveAggregates(items []aggItem, sel, from int) {
	if from < 0 || p.st.Kind != Read {
		return
	}
	for i, depth := 0, 0; i < len(p.toks); i++ {
		switch {
		case p.isPunct(i, '('):
			depth++
		case p.isPunct(i, ')'):
			depth--
		case depth == 0:
			switch p.word(i) {
			case "union", "intersect", "except":
				return // the columns' types are the set operation's
			}
		}
	}
	var buf [4]tableName
	refs, end := p.fromList(from+1, buf[:0])
	if refs == nil || end < len(p.toks) && p.word(end) != "where" && !conditionEnd(p.word(end)) {
		return
	}
	// The common table expressions, which shadow tables of their name.
	var ctes map[string]bool
	if p.word(0) == "with" {
		ctes = map[string]bool{}
		for i, depth := 1, 0; i < sel; i++ {
			switch {
			case p.isPunct(i, '('):
				depth++
			case p.isPunct(i, ')'):
				depth--
			case depth == 0 && p.isIdent(i):
				switch p.word(i) {
				case "recursive", "as", "not", "materialized":
				default:
					ctes[identName(p.text(i))] = true
				}
			}
		}
	}
	ag := &Aggregates{Columns: make([]ParamColumn, 0, len(items)), Items: make([]Aggregate, 0, len(items))}
	argBuf := make([]int, 0, len(items)*len(refs)) // every item's Args, in one array
	index := func(table, column string) int {
		for k, c := range ag.Columns {
			if c.Table == table && c.Column == column {
				return k
			}
		}
		ag.Columns = append(ag.Columns, ParamColumn{Table: table, Column: column})
		return len(ag.Columns) - 1
	}
items:
	for _, it := range items {
		var tbuf [4]string
		tables := tbuf[:0]
		for _, r := range refs {
			if it.qualifier != "" && r.name != it.qualifier {
				continue
			}
			if ctes[r.table] {
				continue items // perhaps the expression's column
			}
			tables = append(tables, r.table)
		}
		if len(tables) == 0 {
			continue
		}
		at := len(argBuf)
		for _, t := range tables {
			argBuf = append(argBuf, index(t, it.column))
		}
		args := argBuf[at:len(argBuf):len(argBuf)]
		ag.Items = append(ag.Items, Aggregate{Result: it.result, Func: it.fn, Args: args, With: it.with})
	}
	if len(ag.Items) > 0 {
		p.st.Aggregates = ag
	}
}
