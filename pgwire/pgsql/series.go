package pgsql

import (
	"errors"
	"strconv"
	"strings"
)

// generate_series(start, stop[, step]) in FROM, which SQLite (as
// modernc.org/sqlite builds it) does not have, becomes a recursive common
// table expression in a subquery that takes the function's alias and
// column alias:
//
//	FROM generate_series(1, 10, 2) AS g(i)
//	FROM (WITH RECURSIVE _pg_series(v, e, s) AS (SELECT 1, 10, 2 UNION ALL
//	      SELECT v + s, e, s FROM _pg_series WHERE v + s <= e)
//	      SELECT v AS "i" FROM _pg_series WHERE v <= e) AS "g"
//
// Each argument is evaluated once, as Postgres does. A step that is not a
// literal goes through _pg_series_step, which refuses 0 (22023) rather
// than loop forever; its sign decides the direction. With an interval
// literal as the step, the series is of timestamps (datetime() text, as
// the front end's timestamps are). It is plain SQL: the same on every
// node, allowed by the authorizer, and its rows are produced as they are
// read (measured in docs/BENCHMARKS.md).

// seriesStepFunc is the SQL name of the guard on a step that is not a
// literal.
const seriesStepFunc = "_pg_series_step"

// errSeriesStep is Postgres' message; the server maps it to 22023.
var errSeriesStep = errors.New("step size cannot equal zero")

func seriesStepGuard(args []any) (any, error) {
	switch x := args[0].(type) {
	case int64:
		if x == 0 {
			return nil, errSeriesStep
		}
	case float64:
		if x == 0 {
			return nil, errSeriesStep
		}
	}
	return args[0], nil
}

// inFrom reports whether token i is a table reference of a FROM clause:
// after FROM, JOIN, or a comma of the FROM list.
func (p *parser) inFrom(i int) bool {
	depth := 0
	for j := i - 1; j >= 0; j-- {
		switch {
		case p.isPunct(j, ')'):
			depth++
		case p.isPunct(j, '('):
			if depth == 0 {
				return false
			}
			depth--
		case depth > 0:
		case p.kindAt(j) == tWord:
			switch p.word(j) {
			case "from", "join":
				return true
			case "select", "where", "on", "group", "having", "order", "limit", "set", "values",
				"returning", "by", "and", "or", "when", "then":
				return false
			}
		case p.kindAt(j) == tOp:
			return false
		}
	}
	return false
}

// notAlias are the words after a table reference that are not its alias.
var notAlias = map[string]bool{
	"where": true, "join": true, "on": true, "left": true, "right": true, "inner": true, "cross": true,
	"full": true, "natural": true, "order": true, "group": true, "limit": true, "union": true,
	"having": true, "window": true, "offset": true, "fetch": true, "for": true, "using": true,
	"except": true, "intersect": true, "returning": true, "with": true, "outer": true,
}

// series translates generate_series( at token i, in FROM.
func (p *parser) series(i, start int) int { return p.seriesAs(i, "") }

// seriesAs is series, the subquery written after prefix.
func (p *parser) seriesAs(i int, prefix string) int {
	end := p.matchParen(i + 1)
	if end < 0 {
		p.fail("42601", len(p.toks)-1, "syntax error at end of input")
		return len(p.toks)
	}
	var args [][2]int
	depth, from := 0, i+2
	for j := i + 2; j <= end; j++ {
		switch {
		case p.isPunct(j, '(') || p.isPunct(j, '['):
			depth++
		case (p.isPunct(j, ')') || p.isPunct(j, ']')) && j < end:
			depth--
		case depth == 0 && (p.isPunct(j, ',') || j == end):
			args = append(args, [2]int{from, j})
			from = j + 1
		}
	}
	if len(args) < 2 || len(args) > 3 || args[0][0] == args[0][1] {
		p.fail("42883", i, "function generate_series with "+strconv.Itoa(len(args))+" arguments does not exist")
		return end + 1
	}
	// The alias, and the column's.
	j := end + 1
	alias, col := "generate_series", ""
	named := false
	if p.word(j) == "as" {
		j++
	}
	if k := p.kindAt(j); k == tQIdent || k == tWord && !notAlias[p.word(j)] {
		alias, named = identName(p.text(j)), true
		j++
		if p.isPunct(j, '(') && (p.kindAt(j+1) == tWord || p.kindAt(j+1) == tQIdent) && p.isPunct(j+2, ')') {
			col = identName(p.text(j + 1))
			j += 3
		}
	}
	if p.word(j) == "with" && p.word(j+1) == "ordinality" {
		p.unsupported(j, "generate_series … WITH ORDINALITY")
		return j
	}
	if col == "" {
		col = alias
	}
	_ = named
	typ := ""
	a := p.subExpr(args[0][0], args[0][1])
	b := p.subExpr(args[1][0], args[1][1])
	if p.err != nil {
		return j
	}
	var sb strings.Builder
	sb.WriteString("(WITH RECURSIVE _pg_series(v, e, s) AS (SELECT ")
	var next, cont, keep, litStep string
	if len(args) == 3 && p.word(args[2][0]) == "interval" && args[2][1] == args[2][0]+2 {
		v, ok := p.literal(args[2][0] + 1)
		if !ok {
			return j
		}
		mods, ok := intervalModifiers(v, false)
		if !ok {
			p.fail("22007", args[2][0]+1, "invalid input syntax for type interval: "+strconv.Quote(v))
			return j
		}
		sb.WriteString("datetime(" + a + "), datetime(" + b + "), 0")
		typ = "timestamp"
		next = "datetime(v" + mods + ")"
		if strings.HasPrefix(strings.TrimSpace(v), "-") {
			cont, keep = next+" >= e", "v >= e"
		} else {
			cont, keep = next+" <= e", "v <= e"
		}
	} else {
		step := "1"
		literal := true
		if len(args) == 3 {
			lo, hi := args[2][0], args[2][1]
			neg := p.isOp(lo, "-")
			if k := lo; neg {
				k++
				lo = k
			}
			if hi == lo+1 && p.kindAt(lo) == tNumber {
				step = p.text(lo)
				if v, err := strconv.ParseFloat(step, 64); err != nil || v == 0 {
					p.fail("22023", lo, "step size cannot equal zero")
					return j
				}
				if neg {
					step = "-" + step
				}
			} else {
				literal = false
				step = seriesStepFunc + "(" + p.subExpr(args[2][0], args[2][1]) + ")"
			}
		}
		sb.WriteString(a + ", " + b + ", " + step)
		typ = seriesIntType(a, b, step)
		litStep = step
		next = "v + s"
		switch {
		case !literal:
			cont = "CASE WHEN s > 0 THEN v + s <= e ELSE v + s >= e END"
			keep = "CASE WHEN s > 0 THEN v <= e ELSE v >= e END"
		case strings.HasPrefix(step, "-"):
			cont, keep = "v + s >= e", "v >= e"
		default:
			cont, keep = "v + s <= e", "v <= e"
		}
	}
	if p.err != nil {
		return j
	}
	if typ == "int4" || typ == "int8" {
		// Literal bounds and step: one column to carry, the bounds inlined.
		cmp := " <= "
		if strings.HasPrefix(litStep, "-") {
			cmp = " >= "
		}
		sb.Reset()
		sb.WriteString("(WITH RECURSIVE _pg_series(v) AS (SELECT " + a + " UNION ALL SELECT v + " + litStep + " FROM _pg_series WHERE v + " +
			litStep + cmp + b + ") SELECT v AS " + quoteIdent(col) + " FROM _pg_series WHERE v" + cmp + b + ") AS " + quoteIdent(alias))
	} else {
		sb.WriteString(" UNION ALL SELECT " + next + ", e, s FROM _pg_series WHERE " + cont +
			") SELECT v AS " + quoteIdent(col) + " FROM _pg_series WHERE " + keep + ") AS " + quoteIdent(alias))
	}
	p.seriesCols = append(p.seriesCols, Column{Name: col, Type: typ})
	p.replace(i, prefix+sb.String())
	for k := i + 1; k < j; k++ {
		p.drop(k)
	}
	p.prim = -1
	return j
}

// matchParen returns the token that closes the parenthesis at token i, or
// -1.
func (p *parser) matchParen(i int) int {
	depth := 0
	for j := i; j < len(p.toks); j++ {
		switch {
		case p.isPunct(j, '('):
			depth++
		case p.isPunct(j, ')'):
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// subExpr translates the expression of tokens [a, b) on its own, as the
// statement's translation would.
func (p *parser) subExpr(a, b int) string {
	if a >= b {
		p.fail("42601", a, "syntax error at or near "+strconv.Quote(p.text(a)))
		return ""
	}
	off := int(p.toks[a].start)
	src := p.src[off:p.toks[b-1].end]
	var buf [16]token
	toks := buf[:0]
	for _, t := range lex(src, nil) {
		if t.kind != tComment {
			toks = append(toks, t)
		}
	}
	q := &parser{src: src, toks: toks, st: &Statement{Source: src}, prim: -1, dml: p.dml, schema: p.subSchema(a)}
	q.translate()
	if e := q.st.Err; e != nil {
		if p.err == nil {
			pos := e.Position
			if pos > 0 {
				pos += charPos(p.src, off) - 1
			}
			p.err = &Error{Code: e.Code, Message: e.Message, Position: pos}
		}
		return ""
	}
	return p.adopt(q.st)
}

// seriesIntType is the type of an integer series whose arguments are
// these SQLite texts: int4 or int8 when they are integer literals, as
// Postgres picks the function, else unknown.
func seriesIntType(args ...string) string {
	typ := "int4"
	for _, a := range args {
		v, err := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
		if err != nil {
			return ""
		}
		if v > 1<<31-1 || v < -1<<31 {
			typ = "int8"
		}
	}
	return typ
}

// typeSeriesColumns types the select-list items that name a column of a
// generate_series in FROM.
func (p *parser) typeSeriesColumns() {
	if len(p.seriesCols) == 0 {
		return
	}
	for i := range p.st.Columns {
		c := &p.st.Columns[i]
		if c.Type != "" || i >= len(p.refItems) || !p.refItems[i] {
			continue
		}
		for _, s := range p.seriesCols {
			if s.Name == c.Name && s.Type != "" {
				c.Type = s.Type
			}
		}
	}
}

// selectSeries translates SELECT generate_series(…) [AS name], the
// series alone in the select list of a SELECT without FROM, as Postgres
// runs a set-returning function there: one row per value. ok is false for
// any other use, which is refused.
func (p *parser) selectSeries(i int) (int, bool) {
	if p.word(i-1) != "select" {
		return i, false
	}
	end := p.matchParen(i + 1)
	if end < 0 {
		return i, false
	}
	j := end + 1
	col := "generate_series"
	if p.word(j) == "as" {
		name, ok := p.name(j + 1)
		if !ok {
			return i, false
		}
		col, j = name, j+2
	}
	if j < len(p.toks) && !p.isPunct(j, ')') {
		switch p.word(j) {
		case "union", "intersect", "except", "order", "limit", "offset", "fetch":
		default:
			return i, false
		}
	}
	// The alias nameColumns would add after the call goes: the column
	// is named in the subquery.
	kept := p.aliases[:0]
	for _, a := range p.aliases {
		if a.after < i || a.after >= j {
			kept = append(kept, a)
		}
	}
	p.aliases = kept
	// The series reads "AS name" after the call as its own alias.
	next := p.seriesAs(i, quoteIdent(col)+" FROM ")
	if n := len(p.seriesCols); n > 0 && len(p.st.Columns) == 1 && p.st.Columns[0].Name == col && p.st.Columns[0].Type == "" {
		p.st.Columns[0].Type = p.seriesCols[n-1].Type
	}
	return next, true
}
