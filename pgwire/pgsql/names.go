package pgsql

import (
	"slices"
	"strconv"
	"strings"
)

// This file reads the select list of a SELECT, to name and type its
// columns as Postgres does (FigureColname: a column's name, a function's
// name, the type of a cast literal, "?column?" otherwise), and the VALUES
// of an INSERT, for DEFAULT.

// nameColumns sets Statement.Columns from the top-level select list of a
// SELECT, and has translate add an alias where SQLite would name a column
// otherwise than Postgres.
func (p *parser) nameColumns() {
	if p.st.Verb != "SELECT" {
		return
	}
	// The select list: after the top-level SELECT (past any WITH).
	i, depth := 0, 0
	for ; i < len(p.toks); i++ {
		switch {
		case p.isPunct(i, '('):
			depth++
		case p.isPunct(i, ')'):
			depth--
		case depth <= 0 && p.word(i) == "select":
			goto found
		}
	}
	return
found:
	sel, from := i, -1
	var aggBuf [4]aggItem
	aggs := aggBuf[:0]
	i++
	if w := p.word(i); w == "distinct" || w == "all" {
		i++
		if p.word(i-1) == "distinct" && p.word(i) == "on" {
			return
		}
	}
	var cols []Column
	star := false
	itemStart := i
	depth = 0
	for ; ; i++ {
		end := i >= len(p.toks)
		if !end {
			switch {
			case p.isPunct(i, '(') || p.isPunct(i, '['):
				depth++
				continue
			case p.isPunct(i, ')') || p.isPunct(i, ']'):
				depth--
				if depth >= 0 {
					continue
				}
				end = true
			case depth > 0:
				continue
			case p.isPunct(i, ','):
			case p.kindAt(i) == tWord:
				switch p.word(i) {
				case "from":
					if p.word(i-1) == "distinct" {
						continue
					}
					end = true
					from = i
				case "where", "group", "having", "order", "limit", "offset", "union", "intersect",
					"except", "window", "into", "fetch", "for":
					end = true
				default:
					continue
				}
			case p.isPunct(i, ';'):
				end = true
			default:
				continue
			}
		}
		if i > itemStart {
			c, isStar, plain := p.nameItem(itemStart, i)
			star = star || isStar
			if isStar {
				c = Column{Name: "*"}
			}
			// A long item keeps SQLite's name: its alias would cost a
			// copy of the statement.
			// An item that ends in an operator is SQLite's syntax error to
			// report, at the operand it misses, not at an alias.
			if !isStar && !plain && c.Name != "" && p.toks[i-1].end-p.toks[itemStart].start <= maxAliasedItem &&
				p.kindAt(i-1) != tOp {
				p.aliases = append(p.aliases, alias{after: i - 1, name: c.Name})
			}
			cols = append(cols, c)
			p.refItems = append(p.refItems, !isStar && p.isNameChain(itemStart, i))
			p.numericItem(itemStart, i)
			if it, ok := p.aggregateItem(itemStart, i, len(cols)-1); ok && !isStar {
				aggs = append(aggs, it)
			}
		}
		if end {
			break
		}
		itemStart = i + 1
	}
	if !star {
		p.st.Columns = cols
		if len(aggs) > 0 {
			p.resolveAggregates(aggs, sel, from)
		}
	} else if len(cols) > 1 {
		p.st.Items = cols
	}
}

// numericItem has a select-list item of tokens [a, b) that is a decimal
// literal, with or without an alias, sent as its text: Postgres shows a
// numeric with the scale it was written with (1.0, 1.50), which SQLite's
// REAL would lose.
func (p *parser) numericItem(a, b int) {
	if p.kindAt(a) != tNumber || p.st.selectInto || !strings.Contains(p.text(a), ".") || strings.ContainsAny(p.text(a), "eExX_") {
		return
	}
	switch n := b - a; {
	case n == 1, n == 2 && (p.kindAt(a+1) == tWord || p.kindAt(a+1) == tQIdent) && p.word(a+1) != "as",
		n == 3 && p.word(a+1) == "as":
	default:
		return
	}
	for j := range p.toks {
		switch p.word(j) {
		case "union", "intersect", "except":
			return // a text would sort and compare apart from the other rows' numbers
		}
	}
	if p.edits == nil {
		p.edits = map[int]string{}
	}
	p.edits[a] = "'" + p.text(a) + "'"
}

// maxAliasedItem is the longest select-list item, in bytes, given an alias.
const maxAliasedItem = 4096

// nameItem names the select-list item of tokens [a, b). plain reports an
// item SQLite names as Postgres does (a column, or one with an alias).
func (p *parser) nameItem(a, b int) (c Column, star, plain bool) {
	n := b - a
	if p.isOp(b-1, "*") {
		return Column{}, true, true
	}
	// An alias: AS name, or a bare name after an expression.
	if n >= 3 && p.word(b-2) == "as" {
		c = p.nameItemExpr(a, b-2)
		c.Name = identName(p.text(b - 1))
		return c, false, true
	}
	if n >= 2 && (p.kindAt(b-1) == tQIdent || p.kindAt(b-1) == tWord && !reservedAfter[p.word(b-1)]) {
		prev := b - 2
		endsExpr := false
		switch p.kindAt(prev) {
		case tNumber, tString, tEString, tDollar, tQIdent, tParam:
			endsExpr = true
		case tWord:
			endsExpr = !notPrimary[p.word(prev)] && !typeWordAfter(p, prev)
		case tPunct:
			endsExpr = p.isPunct(prev, ')')
		}
		if endsExpr {
			c = p.nameItemExpr(a, b-1)
			c.Name = identName(p.text(b - 1))
			return c, false, true
		}
	}
	c = p.nameItemExpr(a, b)
	// A column reference: name, or qualified names.
	if p.isNameChain(a, b) {
		switch p.word(b - 1) {
		case "true", "false", "null", "current_timestamp", "localtimestamp", "current_user", "session_user",
			"user", "current_role", "current_date", "current_time", "localtime":
			return c, false, false
		}
		return c, false, true
	}
	return c, false, false
}

// clockTypes are the types of the SQL clock words (current_time, a time
// with a zone, has no type of raftsql's: it goes as text).
var clockTypes = map[string]string{
	"current_timestamp": "timestamptz", "localtimestamp": "timestamp", "current_date": "date", "localtime": "time",
}

// reservedAfter are words that end an expression rather than alias it.
var reservedAfter = map[string]bool{
	"end": true, "null": true, "true": true, "false": true, "and": true, "or": true, "not": true,
	"is": true, "current_timestamp": true, "current_date": true, "current_time": true, "localtimestamp": true,
	"current_user": true, "session_user": true, "user": true, "localtime": true, "zone": true,
	"precision": true, "varying": true,
}

// typeWordAfter reports whether the word at i is part of a type after ::
// (x::double precision).
func typeWordAfter(p *parser, i int) bool {
	for j := i; j >= 0 && p.kindAt(j) == tWord; j-- {
		if p.isOp(j-1, "::") {
			return true
		}
	}
	return false
}

func (p *parser) isNameChain(a, b int) bool {
	for j := a; j < b; j++ {
		if (j-a)%2 == 0 {
			if k := p.kindAt(j); k != tWord && k != tQIdent {
				return false
			}
		} else if !p.isPunct(j, '.') {
			return false
		}
	}
	return (b-a)%2 == 1
}

func identName(s string) string {
	if strings.HasPrefix(s, `"`) {
		return strings.ReplaceAll(strings.Trim(s, `"`), `""`, `"`)
	}
	return strings.ToLower(s)
}

// nameItemExpr names and types the expression of tokens [a, b).
func (p *parser) nameItemExpr(a, b int) Column {
	c, _ := p.nameExpr(a, b)
	return c
}

// Name strengths, as Postgres' FigureColname ranks them: a cast gives its
// type's name to an operand that has none or a weak one (CASE's).
const (
	nameNone   = 0 // ?column?
	nameWeak   = 1 // case, a type's name
	nameStrong = 2 // a column's, a function's, …
)

// nameExpr is nameItemExpr with the strength of the name.
func (p *parser) nameExpr(a, b int) (Column, int) {
	c := p.nameExpr0(a, b)
	weak := p.weakName
	p.weakName = false
	switch {
	case c.Name == "?column?":
		return c, nameNone
	case weak:
		return c, nameWeak
	}
	return c, nameStrong
}

// nameExpr0 names and types the expression of tokens [a, b); it sets
// p.weakName when the name is a weak one.
func (p *parser) nameExpr0(a, b int) Column {
	p.weakName = false
	if a >= b {
		return Column{Name: "?column?"}
	}
	if p.jsonbEdits(a, b) {
		return Column{Name: "?column?", Type: "jsonb"}
	}
	// The last top-level cast gives the type; the operand before the first
	// names the column, or else the type does.
	depth, firstCast, lastCast := 0, -1, -1
	for j := a; j < b; j++ {
		switch {
		case p.isPunct(j, '(') || p.isPunct(j, '['):
			depth++
		case p.isPunct(j, ')') || p.isPunct(j, ']'):
			depth--
		case depth == 0 && p.isOp(j, "::"):
			if firstCast < 0 {
				firstCast = j
			}
			lastCast = j
		}
	}
	if lastCast >= 0 && p.topLevelOp(a, firstCast) {
		// a / b::int, x = y::text: an operator's result, not a cast's.
		if p.isPredicate(a, b) {
			return Column{Name: "?column?", Type: "bool"}
		}
		return Column{Name: "?column?"}
	}
	if typ, _, next := p.readType(lastCast + 1); lastCast >= 0 && next == b {
		c, strength := p.nameExpr(a, firstCast)
		if strength <= nameWeak {
			c.Name = typeColumnName(typ)
			p.weakName = true
		}
		c.Type = typ
		return c
	}
	w := p.word(a)
	if p.isPredicate(a, b) {
		return Column{Name: "?column?", Type: "bool"}
	}
	if b-a >= 4 && (p.isOp(b-3, "+") || p.isOp(b-3, "-")) && p.word(b-2) == "interval" && p.kindAt(b-1) == tString {
		// A timestamp plus or minus an interval literal keeps its type; a
		// date's becomes a timestamp, as in Postgres.
		switch typ := p.nameItemExpr(a, b-3).Type; typ {
		case "timestamp", "timestamptz":
			return Column{Name: "?column?", Type: typ}
		case "date":
			return Column{Name: "?column?", Type: "timestamp"}
		}
		return Column{Name: "?column?"}
	}
	if b-a >= 5 && p.word(b-4) == "at" && p.word(b-3) == "time" && p.word(b-2) == "zone" {
		// x AT TIME ZONE z.
		return Column{Name: "timezone", Type: zoneResult(p.nameItemExpr(a, b-4).Type)}
	}
	switch {
	case b-a == 1:
		switch p.kindAt(a) {
		case tNumber:
			s := p.text(a)
			if strings.ContainsAny(s, ".eE") {
				// A numeric, as in Postgres, whose scale is that of its text.
				return Column{Name: "?column?", Type: "numeric"}
			}
			if v, err := strconv.ParseInt(s, 10, 64); err == nil && v <= 1<<31-1 {
				return Column{Name: "?column?", Type: "int4"}
			}
			return Column{Name: "?column?", Type: "int8"}
		case tString, tEString, tDollar:
			return Column{Name: "?column?", Type: "text"}
		case tParam:
			return Column{Name: "?column?"}
		case tQIdent:
			return Column{Name: identName(p.text(a))}
		case tWord:
			switch w {
			case "true", "false":
				return Column{Name: "bool", Type: "bool"}
			case "null":
				return Column{Name: "?column?"}
			case "current_timestamp", "localtimestamp", "current_date", "current_time", "localtime":
				return Column{Name: w, Type: clockTypes[w]}
			case "current_user", "session_user", "user", "current_role":
				return Column{Name: w, Type: "name"}
			}
			return Column{Name: w}
		}
	case p.isNameChain(a, b):
		return Column{Name: identName(p.text(b - 1))}
	case b-a >= 2 && p.kindAt(a) == tWord && (p.kindAt(b-1) == tString || p.kindAt(b-1) == tEString || p.kindAt(b-1) == tDollar) &&
		p.typedLiteral(a, b-1):
		// A typed literal: date '2020-01-01', timestamp with time zone '…',
		// interval '1 day', named by its type.
		typ, _, _ := p.readType(a)
		p.weakName = true
		switch typ {
		case "date", "timestamp", "timestamptz", "time", "uuid", "json", "jsonb", "bytea", "bool":
			return Column{Name: typ, Type: typ}
		}
		return Column{Name: typeColumnName(typ)}
	case p.isPunct(a, '(') && p.closes(a, b-1) && p.word(a+1) == "select":
		// A scalar subquery is named as its one column is.
		return p.subqueryColumn(a+1, b-1)
	case p.isPunct(a, '(') && p.closes(a, b-1) && !p.topLevelComma(a+1, b-1):
		c, strength := p.nameExpr(a+1, b-1)
		p.weakName = strength == nameWeak
		return c
	case p.kindAt(a) == tOp && (p.isOp(a, "|/") || p.isOp(a, "||/")):
		return Column{Name: "?column?", Type: "float8"}
	case p.onlyTopOp(a, b, "^", "+", "-", "*", "/", "%"):
		// Arithmetic with a power, a double precision.
		return Column{Name: "?column?", Type: "float8"}
	case p.onlyTopOp(a, b, "#>>"):
		return Column{Name: "?column?", Type: "text"}
	case p.onlyTopOp(a, b, "#>"):
		return Column{Name: "?column?", Type: "json"}
	case (b-a == 2) && p.kindAt(a) == tOp && p.kindAt(a+1) == tNumber:
		c := p.nameItemExpr(a+1, b)
		return c
	case w == "case" && p.word(b-1) == "end":
		// Named as its ELSE result is, if that has a name of its own.
		if e := p.caseElse(a, b-1); e > 0 {
			if c, strength := p.nameExpr(e+1, b-1); strength == nameStrong {
				return c
			}
		}
		p.weakName = true
		return Column{Name: "case"}
	case w == "exists" && p.isPunct(a+1, '('):
		return Column{Name: "exists", Type: "bool"}
	case p.kindAt(a) == tWord && p.isPunct(a+1, '(') && p.windowCall(a+1, b):
		// count(*) OVER (…), sum(x) FILTER (WHERE …): the function's name.
		return Column{Name: w, Type: p.callType(w, a+1)}
	case p.kindAt(a) == tWord && p.isPunct(a+1, '(') && p.closes(a+1, b-1):
		switch w {
		case "cast":
			// CAST(x AS type)
			d, as := 0, -1
			for j := a + 1; j < b; j++ {
				switch {
				case p.isPunct(j, '('):
					d++
				case p.isPunct(j, ')'):
					d--
				case d == 1 && p.word(j) == "as":
					as = j
				}
			}
			if as < 0 {
				return Column{Name: "?column?"}
			}
			typ, _, _ := p.readType(as + 1)
			c := p.nameItemExpr(a+2, as)
			if c.Name == "?column?" {
				c.Name = typeColumnName(typ)
			}
			c.Type = typ
			return c
		case "now", "clock_timestamp", "transaction_timestamp", "statement_timestamp":
			return Column{Name: w, Type: "timestamptz"}
		case "current_timestamp", "localtimestamp", "localtime", "current_time":
			return Column{Name: w, Type: clockTypes[w]}
		case "greatest", "least", "coalesce", "nullif":
			return Column{Name: w}
		case "gen_random_uuid":
			return Column{Name: w, Type: "uuid"}
		case "extract":
			return Column{Name: w, Type: "numeric"}
		case "date_trunc":
			return Column{Name: w, Type: p.truncType(a + 1)}
		case "timezone":
			return Column{Name: w, Type: p.timezoneType(a + 1)}
		}
		return Column{Name: w, Type: p.callType(w, a+1)}
	case p.kindAt(a) == tWord && p.isPunct(a+1, '.') && p.kindAt(a+2) == tWord && p.isPunct(a+3, '(') && p.closes(a+3, b-1):
		w = p.word(a + 2)
		return Column{Name: w, Type: p.callType(w, a+3)}
	}
	return Column{Name: "?column?"}
}

// typedLiteral reports whether tokens [a, lit) are a type name, which the
// string at lit is a literal of.
func (p *parser) typedLiteral(a, lit int) bool {
	switch p.word(a) {
	case "not", "case", "when", "then", "else", "and", "or", "like", "ilike", "is", "in", "between", "escape",
		"collate", "distinct", "select", "array", "exists", "operator":
		return false
	}
	typ, _, next := p.readType(a)
	return typ != "" && next == lit && !strings.HasSuffix(typ, "[]")
}

// subqueryColumn names the first column of the SELECT at token sel,
// which ends before token end.
func (p *parser) subqueryColumn(sel, end int) Column {
	i := sel + 1
	if w := p.word(i); w == "distinct" || w == "all" {
		i++
	}
	depth := 0
	for j := i; j < end; j++ {
		switch {
		case p.isPunct(j, '(') || p.isPunct(j, '['):
			depth++
		case p.isPunct(j, ')') || p.isPunct(j, ']'):
			depth--
		case depth != 0:
		case p.isPunct(j, ','):
			end = j
		case p.kindAt(j) == tWord:
			switch p.word(j) {
			case "from", "where", "group", "having", "order", "limit", "offset", "union", "intersect", "except",
				"window", "fetch", "for":
				end = j
			}
		}
	}
	if i >= end || p.isOp(end-1, "*") {
		return Column{Name: "?column?"}
	}
	c, _, _ := p.nameItem(i, end)
	p.weakName = false
	return Column{Name: c.Name, Type: c.Type}
}

// topLevelComma reports a comma outside parentheses in tokens [a, b).
func (p *parser) topLevelComma(a, b int) bool {
	depth := 0
	for j := a; j < b; j++ {
		switch {
		case p.isPunct(j, '(') || p.isPunct(j, '['):
			depth++
		case p.isPunct(j, ')') || p.isPunct(j, ']'):
			depth--
		case depth == 0 && p.isPunct(j, ','):
			return true
		}
	}
	return false
}

// caseElse is the ELSE of the CASE at token a that ends at token end, 0
// if it has none.
func (p *parser) caseElse(a, end int) int {
	depth, cases := 0, 0
	for j := a + 1; j < end; j++ {
		switch {
		case p.isPunct(j, '('):
			depth++
		case p.isPunct(j, ')'):
			depth--
		case depth != 0:
		case p.word(j) == "case":
			cases++
		case p.word(j) == "end":
			cases--
		case cases == 0 && p.word(j) == "else":
			return j
		}
	}
	return 0
}

// onlyTopOp reports whether the binary operators at the top level of
// tokens [a, b) are all among ops, and the first of ops is one of them.
func (p *parser) onlyTopOp(a, b int, ops ...string) bool {
	depth, found := 0, false
	for j := a; j < b; j++ {
		switch {
		case p.isPunct(j, '(') || p.isPunct(j, '[') || p.word(j) == "case":
			depth++
		case p.isPunct(j, ')') || p.isPunct(j, ']') || p.word(j) == "end":
			depth--
		case depth == 0 && p.kindAt(j) == tOp && !p.isOp(j, "::"):
			if j == a && (p.isOp(j, "-") || p.isOp(j, "+")) {
				continue // a sign
			}
			if !slices.Contains(ops, p.text(j)) {
				return false
			}
			found = found || j > a && p.isOp(j, ops[0])
		case depth == 0 && p.kindAt(j) == tWord && notPrimary[p.word(j)]:
			return false
		}
	}
	return found
}

// callType is the type of a call of w whose arguments open at token open:
// functionTypes', or for the functions typed by their argument (lag, min,
// sum …) what the first argument's type makes it, "" when unknown.
func (p *parser) callType(w string, open int) string {
	argType := func() string {
		end, d := open+1, 0
		for ; end < len(p.toks); end++ {
			if p.isPunct(end, '(') {
				d++
			} else if p.isPunct(end, ')') || p.isPunct(end, ',') && d == 0 {
				if d == 0 {
					break
				}
				d--
			}
		}
		if end <= open+1 || end >= len(p.toks) {
			return ""
		}
		if (w == "min" || w == "max") && p.isPunct(end, ',') {
			return "" // SQLite's scalar min and max, of any types
		}
		return p.nameItemExpr(open+1, end).Type
	}
	switch w {
	case "lag", "lead", "first_value", "last_value", "nth_value", "min", "max", "abs":
		return argType()
	case "sum":
		switch t := argType(); t {
		case "int2", "int4":
			return "int8"
		case "float4", "float8":
			return t
		}
	case "avg":
		if t := argType(); t == "float4" || t == "float8" {
			return "float8"
		}
	}
	return functionTypes[w]
}

// isPredicate reports an expression whose top level is a comparison,
// pattern match or logical operator: its value is a bool.
func (p *parser) isPredicate(a, b int) bool {
	depth := 0
	for j := a; j < b; j++ {
		switch {
		case p.isPunct(j, '('):
			depth++
		case p.isPunct(j, ')'):
			depth--
		case depth != 0:
		case p.kindAt(j) == tOp:
			switch p.text(j) {
			case "=", "==", "<>", "!=", "<", ">", "<=", ">=", "~", "~*", "!~", "!~*", "@>", "<@", "?", "?|", "?&":
				return j > a
			}
		case p.kindAt(j) == tWord:
			switch p.word(j) {
			case "like", "ilike", "in", "between", "and", "or", "is", "glob", "regexp":
				return j > a
			case "case", "cast", "exists", "not":
				if j == a {
					return p.word(j) == "not"
				}
			}
		}
	}
	return false
}

// topLevelOp reports a binary operator outside parentheses and CASE … END
// in tokens [a, b) (a sign in front is not one).
func (p *parser) topLevelOp(a, b int) bool {
	depth := 0
	for j := a; j < b; j++ {
		switch {
		case p.isPunct(j, '(') || p.isPunct(j, '[') || p.word(j) == "case":
			depth++
		case p.isPunct(j, ')') || p.isPunct(j, ']') || p.word(j) == "end":
			depth--
		case depth == 0 && j > a && p.kindAt(j) == tOp && !p.isOp(j, "::"):
			return true
		}
	}
	return false
}

// windowCall reports f(…) OVER (…) or f(…) FILTER (…) [OVER (…)] ending
// at b, the parenthesis at open being the call's.
func (p *parser) windowCall(open, b int) bool {
	d := 0
	j := open
	for ; j < b; j++ {
		if p.isPunct(j, '(') {
			d++
		} else if p.isPunct(j, ')') {
			d--
			if d == 0 {
				break
			}
		}
	}
	j++
	if w := p.word(j); w == "filter" && p.isPunct(j+1, '(') {
		k := p.matchParen(j + 1)
		if k < 0 {
			return false
		}
		if k == b-1 {
			return true
		}
		j = k + 1
	}
	if p.word(j) != "over" {
		return false
	}
	if p.isPunct(j+1, '(') {
		return p.matchParen(j+1) == b-1
	}
	return j+2 == b // OVER w
}

// closes reports whether the parenthesis at open is closed at close.
func (p *parser) closes(open, close int) bool {
	if !p.isPunct(close, ')') {
		return false
	}
	d := 0
	for j := open; j <= close; j++ {
		switch {
		case p.isPunct(j, '('):
			d++
		case p.isPunct(j, ')'):
			d--
			if d == 0 {
				return j == close
			}
		}
	}
	return false
}

// typeColumnName is how Postgres names a column that is a cast literal.
func typeColumnName(typ string) string {
	// An array type is named by its element's: '{}'::int[] is int4.
	typ = strings.TrimSuffix(typ, "[]")
	switch typ {
	case "varchar":
		return "varchar"
	case "bpchar":
		return "bpchar"
	}
	return typ
}

// functionTypes types a column that is one call of these functions, by
// what SQLite returns for them. Integers are int8 since SQLite's are
// 64-bit; sum() is numeric because SQLite returns an integer or a float
// depending on its input, and numeric holds both.
var functionTypes = map[string]string{
	"count": "int8", "length": "int8", "octet_length": "int8", "char_length": "int8",
	"instr": "int8", "unicode": "int8", "changes": "int8", "last_insert_rowid": "int8",
	"random": "int8", "unixepoch": "int8", "nextval": "int8", "setval": "int8", "currval": "int8",
	"total": "float8", "julianday": "float8",
	"sum": "numeric", "avg": "numeric",
	"upper": "text", "lower": "text", "substr": "text", "substring": "text", "trim": "text",
	"ltrim": "text", "rtrim": "text", "replace": "text", "hex": "text", "quote": "text",
	"typeof": "text", "printf": "text", "format": "text", "group_concat": "text",
	"bool_and": "bool", "bool_or": "bool", "every": "bool",
	"string_agg": "text", "date": "text", "time": "text", "datetime": "text",
	"strftime": "text", "concat": "text", "concat_ws": "text", "char": "text",
	"sqlite_version": "text", "to_char": "text", "date_part": "float8",
	"has_table_privilege": "bool", "has_schema_privilege": "bool", "has_database_privilege": "bool",
	"has_column_privilege": "bool", "has_sequence_privilege": "bool", "has_function_privilege": "bool",
	"has_any_column_privilege": "bool", "has_type_privilege": "bool", "pg_table_is_visible": "bool",
	"pg_type_is_visible": "bool", "pg_function_is_visible": "bool", "pg_backend_pid": "int4",
	"current_database": "name", "current_schema": "name", "version": "text",
	"format_type": "text", "obj_description": "text", "col_description": "text", "current_setting": "text",
	"pg_is_in_recovery": "bool", "pg_get_userbyid": "name", "lpad": "text", "rpad": "text", "md5": "text",
	"position": "int4", "pg_database_size": "int8", "pg_relation_size": "int8", "pg_table_size": "int8",
	"pg_indexes_size": "int8", "pg_total_relation_size": "int8", "pg_size_pretty": "text",
	// Window functions.
	"row_number": "int8", "rank": "int8", "dense_rank": "int8", "ntile": "int4",
	"percent_rank": "float8", "cume_dist": "float8",
	// Math: SQLite's (round, ceil, power, sqrt, ln, the trigonometric
	// functions …) and the Go functions of pgfuncs.go.
	"round": "numeric", "ceil": "numeric", "ceiling": "numeric", "floor": "numeric", "trunc": "numeric",
	"sign": "numeric", "mod": "numeric", "div": "numeric", "gcd": "int8", "lcm": "int8",
	"power": "float8", "pow": "float8", "sqrt": "float8", "cbrt": "float8", "exp": "float8", "ln": "float8",
	"log": "float8", "log10": "float8", "pi": "float8", "degrees": "float8", "radians": "float8",
	"sin": "float8", "cos": "float8", "tan": "float8", "cot": "float8", "asin": "float8", "acos": "float8",
	"atan": "float8", "atan2": "float8", "sinh": "float8", "cosh": "float8", "tanh": "float8",
	"asinh": "float8", "acosh": "float8", "atanh": "float8", "width_bucket": "int4",
	// Strings.
	"repeat": "text", "regexp_replace": "text", "split_part": "text", "left": "text", "right": "text",
	"reverse": "text", "initcap": "text", "translate": "text", "btrim": "text", "to_hex": "text",
	"chr": "text", "ascii": "int4", "strpos": "int4", "starts_with": "bool", "quote_ident": "text",
	"quote_literal": "text", "quote_nullable": "text", "encode": "text", "decode": "bytea",
	"sha224": "bytea", "sha256": "bytea", "sha384": "bytea", "sha512": "bytea",
	// JSON.
	"json_build_object": "json", "json_build_array": "json", "json_agg": "json", "json_object_agg": "json",
	"to_json": "json", "jsonb_build_object": "jsonb", "jsonb_build_array": "jsonb", "jsonb_agg": "jsonb",
	"jsonb_object_agg": "jsonb", "to_jsonb": "jsonb", "json_typeof": "text", "jsonb_typeof": "text",
	"json_array_length": "int4", "jsonb_array_length": "int4",
	// Dates and times.
	"to_timestamp": "timestamptz", "jsonb_set": "jsonb", "jsonb_insert": "jsonb",
}

// insertDefaults handles DEFAULT in INSERT … VALUES, which SQLite lacks:
// the columns given DEFAULT in every row are left out of the column list
// and the rows; a single row of only DEFAULTs is DEFAULT VALUES.
func (p *parser) insertDefaults() {
	// INSERT [OR …] INTO name [AS alias] [(cols)] VALUES (…), (…)
	i := 0
	for i < len(p.toks) && p.word(i) != "into" {
		i++
	}
	i++
	tableFrom := i
	for p.kindAt(i+1) == tPunct && p.isPunct(i+1, '.') {
		i += 2
	}
	tableTo := i
	i++
	if p.word(i) == "as" && (p.kindAt(i+1) == tWord || p.kindAt(i+1) == tQIdent) {
		i += 2 // bun names the table so: INSERT INTO "t" AS "t" (…) VALUES (DEFAULT, …)
	}
	var cols [][2]int // token ranges of the column names, commas after
	listOpen, listClose := -1, -1
	if p.isPunct(i, '(') {
		listOpen = i
		for j := i + 1; j < len(p.toks); j++ {
			if p.isPunct(j, ')') {
				listClose = j
				break
			}
			if !p.isPunct(j, ',') {
				cols = append(cols, [2]int{j, j})
			}
		}
		if listClose < 0 {
			return
		}
		i = listClose + 1
	}
	if p.word(i) != "values" {
		return
	}
	valuesTok := i
	i++
	var rows [][][2]int // per row, the token range of each item
	var rowSpans [][2]int
	for p.isPunct(i, '(') {
		open := i
		var items [][2]int
		d := 0
		start := i + 1
		for j := i + 1; j < len(p.toks); j++ {
			switch {
			case p.isPunct(j, '('):
				d++
			case p.isPunct(j, ')') && d > 0:
				d--
			case d == 0 && (p.isPunct(j, ',') || p.isPunct(j, ')')):
				items = append(items, [2]int{start, j - 1})
				start = j + 1
				if p.isPunct(j, ')') {
					i = j + 1
					goto rowDone
				}
			}
		}
		return
	rowDone:
		rows = append(rows, items)
		rowSpans = append(rowSpans, [2]int{open, i - 1})
		if !p.isPunct(i, ',') {
			break
		}
		i++
	}
	isDefault := func(r [2]int) bool { return r[0] == r[1] && p.word(r[0]) == "default" }
	p.noteMixedDefaults(tableFrom, tableTo, cols, rows, isDefault)
	var mask []bool
	any := false
	for ri, items := range rows {
		m := make([]bool, len(items))
		for k, it := range items {
			m[k] = isDefault(it)
			any = any || m[k]
		}
		if ri == 0 {
			mask = m
			continue
		}
		if len(m) != len(mask) {
			return
		}
		for k := range m {
			if m[k] != mask[k] {
				if any {
					p.unsupported(rows[ri][k][0], "DEFAULT in some rows of a VALUES list and not in others")
				}
				return
			}
		}
	}
	if !any {
		return
	}
	if cols != nil && len(cols) != len(mask) {
		return // SQLite reports the mismatch
	}
	all := true
	for _, m := range mask {
		all = all && m
	}
	p.edits = map[int]string{}
	if all {
		if len(rows) != 1 {
			p.unsupported(valuesTok, "several rows of only DEFAULT")
			return
		}
		from := valuesTok
		if listOpen >= 0 {
			from = listOpen
		}
		for j := from; j <= rowSpans[0][1]; j++ {
			p.edits[j] = ""
		}
		p.edits[rowSpans[0][1]] = "DEFAULT VALUES"
		return
	}
	if cols == nil {
		p.unsupported(valuesTok, "DEFAULT in VALUES without a column list")
		return
	}
	dropItem := func(items [][2]int, k int) {
		keptBefore := false
		for j := 0; j < k; j++ {
			keptBefore = keptBefore || !mask[j]
		}
		from, to := items[k][0], items[k][1]+1 // the item and the comma after it
		if keptBefore {
			from, to = items[k-1][1]+1, items[k][1] // the comma before it and the item
		}
		for j := from; j <= to; j++ {
			p.edits[j] = ""
		}
	}
	for k, m := range mask {
		if !m {
			continue
		}
		dropItem(cols, k)
		for _, items := range rows {
			dropItem(items, k)
		}
	}
}
