package pgsql

import (
	"strconv"
	"strings"
)

// SELECT DISTINCT ON (exprs) keeps the first row of each group of rows
// equal on exprs, first in the statement's ORDER BY. SQLite has no such
// clause; the statement becomes Postgres text that says the same with a
// window function, which is then parsed as any other:
//
//	SELECT DISTINCT ON (a) a, b AS x FROM t WHERE … ORDER BY a, c DESC LIMIT 5
//
// is
//
//	SELECT _pg_c1 AS "a", _pg_c2 AS "x" FROM (SELECT a AS _pg_c1, b AS _pg_c2,
//	  a AS _pg_o1, c AS _pg_o2, row_number() OVER (PARTITION BY a ORDER BY a,
//	  c DESC) AS _pg_rn FROM t WHERE …) AS _pg_d WHERE _pg_rn = 1
//	  ORDER BY _pg_o1, _pg_o2 DESC LIMIT 5
//
// An ORDER BY or ON item that is an output column's position or name
// stands for that column's expression, as in Postgres. What the rewrite
// cannot keep the meaning of (a * in the select list, a set operation,
// SELECT INTO) is refused with 0A000.

// distinctOn returns the rewritten text of a statement holding SELECT
// DISTINCT ON, with the types its columns had; ok is false when there is
// none, or when the statement is refused (p.err set).
func (p *parser) distinctOn() (sql string, types []string, ok bool) {
	d, n := -1, 0
	for j := 1; j+2 < len(p.toks); j++ {
		if p.distinctOnAt(j) {
			if d < 0 {
				d = j
			}
			n++
		}
	}
	if d < 0 {
		return "", nil, false
	}
	refuse := func(tok int, what string) (string, []string, bool) {
		p.unsupported(tok, "DISTINCT ON "+what)
		return "", nil, false
	}
	if n > maxDistinctOn {
		// Each is a rewrite of the whole statement.
		return refuse(d, "more than "+strconv.Itoa(maxDistinctOn)+" times in a statement")
	}
	if !p.isPunct(d+2, '(') {
		return "", nil, false // SQLite's syntax error
	}
	sel := d - 1
	// The scope: up to the parenthesis that encloses the SELECT.
	end, depth := len(p.toks), 0
	for j := sel; j < len(p.toks); j++ {
		if p.isPunct(j, '(') {
			depth++
		} else if p.isPunct(j, ')') {
			depth--
			if depth < 0 {
				end = j
				break
			}
		}
	}
	onClose := p.matchParen(d + 2)
	if onClose < 0 || onClose >= end {
		return "", nil, false
	}
	// Depth-0 items of [a, b) split at commas.
	split := func(a, b int) [][2]int {
		var out [][2]int
		start, dp := a, 0
		for j := a; j < b; j++ {
			switch {
			case p.isPunct(j, '(') || p.isPunct(j, '['):
				dp++
			case p.isPunct(j, ')') || p.isPunct(j, ']'):
				dp--
			case dp == 0 && p.isPunct(j, ','):
				out = append(out, [2]int{start, j})
				start = j + 1
			}
		}
		if b > start {
			out = append(out, [2]int{start, b})
		}
		return out
	}
	// The clauses at depth 0.
	listEnd, orderAt, tailAt := end, -1, end
	depth = 0
	for j := onClose + 1; j < end; j++ {
		switch {
		case p.isPunct(j, '(') || p.isPunct(j, '['):
			depth++
		case p.isPunct(j, ')') || p.isPunct(j, ']'):
			depth--
		case depth != 0 || p.kindAt(j) != tWord:
		default:
			switch p.word(j) {
			case "from", "where", "group", "having", "window":
				listEnd = min(listEnd, j)
			case "into":
				return refuse(j, "with INTO")
			case "union", "intersect", "except":
				return refuse(j, "in a set operation")
			case "order":
				if p.word(j+1) == "by" && orderAt < 0 {
					listEnd = min(listEnd, j)
					orderAt = j
				}
			case "limit", "offset", "fetch", "for":
				listEnd = min(listEnd, j)
				tailAt = min(tailAt, j)
			}
		}
	}
	// The ON list, the select list and ORDER BY are copied more than once:
	// a DISTINCT ON inside them would be rewritten once per copy, each
	// copying its own again.
	nested := func(a, b int) int {
		for j := a; j < b; j++ {
			if p.distinctOnAt(j) {
				return j
			}
		}
		return -1
	}
	if j := nested(d+3, listEnd); j >= 0 {
		return refuse(j, "inside the expressions of a DISTINCT ON")
	}
	if orderAt >= 0 {
		if j := nested(orderAt, tailAt); j >= 0 {
			return refuse(j, "inside the expressions of a DISTINCT ON")
		}
	}
	items := split(onClose+1, listEnd)
	if len(items) == 0 {
		return "", nil, false
	}
	text := func(a, b int) string {
		if a >= b {
			return ""
		}
		return p.src[p.toks[a].start:p.toks[b-1].end]
	}
	type item struct {
		expr string
		col  Column
	}
	var out []item
	for _, it := range items {
		a, b := it[0], it[1]
		c, star, plain := p.nameItem(a, b)
		if star {
			return refuse(a, "with * in the select list")
		}
		e := b
		switch {
		case b-a >= 3 && p.word(b-2) == "as":
			e = b - 2
		case plain && !p.isNameChain(a, b):
			e = b - 1 // a bare alias
		}
		out = append(out, item{expr: text(a, e), col: c})
	}
	// An output column's position or name stands for its expression.
	resolve := func(a, b int) string {
		if b == a+1 {
			switch p.kindAt(a) {
			case tNumber:
				if k, err := strconv.Atoi(p.text(a)); err == nil && k >= 1 && k <= len(out) {
					return out[k-1].expr
				}
			case tWord, tQIdent:
				name := identName(p.text(a))
				for _, it := range out {
					if it.col.Name == name {
						return it.expr
					}
				}
			}
		}
		return text(a, b)
	}
	var on []string
	for _, it := range split(d+3, onClose) {
		on = append(on, resolve(it[0], it[1]))
	}
	// ORDER BY items: an expression, then ASC|DESC and NULLS FIRST|LAST.
	var orderExprs, orderDirs []string
	if orderAt >= 0 {
		for _, it := range split(orderAt+2, tailAt) {
			a, b := it[0], it[1]
			e := b
			for e > a+1 {
				w := p.word(e - 1)
				if w == "asc" || w == "desc" || (w == "first" || w == "last") && p.word(e-2) == "nulls" {
					if w == "first" || w == "last" {
						e--
					}
					e--
					continue
				}
				break
			}
			orderExprs = append(orderExprs, resolve(a, e))
			orderDirs = append(orderDirs, text(e, b))
		}
	}
	var b strings.Builder
	b.WriteString(p.src[:p.toks[sel].start])
	b.WriteString("SELECT ")
	types = make([]string, len(out))
	for k, it := range out {
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteString("_pg_c" + strconv.Itoa(k+1) + " AS " + quoteIdent(it.col.Name))
		types[k] = it.col.Type
	}
	b.WriteString(" FROM (SELECT ")
	for k, it := range out {
		b.WriteString(it.expr + " AS _pg_c" + strconv.Itoa(k+1) + ", ")
	}
	for k, e := range orderExprs {
		b.WriteString(e + " AS _pg_o" + strconv.Itoa(k+1) + ", ")
	}
	b.WriteString("row_number() OVER (PARTITION BY " + strings.Join(on, ", "))
	if len(orderExprs) > 0 {
		b.WriteString(" ORDER BY ")
		for k, e := range orderExprs {
			if k > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e)
			if orderDirs[k] != "" {
				b.WriteString(" " + orderDirs[k])
			}
		}
	}
	b.WriteString(") AS _pg_rn")
	rest := end
	if orderAt >= 0 {
		rest = orderAt
	} else if tailAt < end {
		rest = tailAt
	}
	if listEnd < rest {
		b.WriteString(" " + text(listEnd, rest))
	}
	b.WriteString(") AS _pg_d WHERE _pg_rn = 1")
	if len(orderExprs) > 0 {
		b.WriteString(" ORDER BY ")
		for k := range orderExprs {
			if k > 0 {
				b.WriteString(", ")
			}
			b.WriteString("_pg_o" + strconv.Itoa(k+1))
			if orderDirs[k] != "" {
				b.WriteString(" " + orderDirs[k])
			}
		}
	}
	if tailAt < end {
		b.WriteString(" " + text(tailAt, end))
	}
	if end < len(p.toks) {
		b.WriteString(p.src[p.toks[end].start:])
	}
	return b.String(), types, true
}

// maxDistinctOn bounds the DISTINCT ONs of a statement.
const maxDistinctOn = 32

// distinctOnAt reports SELECT DISTINCT ON at token j (the DISTINCT).
func (p *parser) distinctOnAt(j int) bool {
	t := p.toks[j]
	return t.kind == tWord && t.end-t.start == 8 && p.word(j) == "distinct" && p.word(j+1) == "on" && p.word(j-1) == "select"
}
