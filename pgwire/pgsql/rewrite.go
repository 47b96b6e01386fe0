package pgsql

import (
	"strconv"
	"strings"
	"unsafe"
)

// This file translates the expressions of a read or write into SQLite's
// dialect, in one pass over the tokens: the text between the tokens it
// rewrites is copied as it is, so SQLite's own syntax (INSERT OR REPLACE,
// datetime('now'), [bracketed] names) goes through untouched. A cast needs
// its operand: the parser keeps where the last complete primary (literal,
// parameter, name, call or parenthesised expression) starts in its output,
// which is the operand of a following :: as Postgres binds it.

// CatalogCast, when set, translates a cast to a catalog type (regclass,
// regtype, regproc, regnamespace, regrole, oid) of operand, given as SQLite
// text; ok false leaves the default: oid as an integer, the others as the
// operand unchanged.
var CatalogCast func(typ, operand string) (sql string, ok bool)

func (p *parser) translate() {
	p.findSchema()
	if p.st.Verb == "INSERT" {
		p.insertDefaults()
	}
	if p.err == nil && (p.st.Verb == "SELECT" || p.st.Verb == "INSERT") {
		p.nameColumns()
	}
	p.quoteKeywordAliases()
	wraps := p.findDefaults()
	var closeAt []int // the ends of the DEFAULT expressions opened
	for i := 0; i < len(p.toks) && p.err == nil; {
		for len(closeAt) > 0 && closeAt[0] <= i {
			// Right after the expression's last token, before the space.
			p.materialize()
			if end := int(p.toks[i-1].end); end > p.last {
				p.out = append(p.out, p.src[p.last:end]...)
				p.last = end
			}
			p.out = append(p.out, ')')
			closeAt = closeAt[1:]
		}
		if len(wraps) > 0 && wraps[0].open == i {
			p.materialize()
			p.gap(i)
			p.out = append(p.out, '(')
			closeAt = append(closeAt, wraps[0].close)
			wraps = wraps[1:]
		}
		next := p.step(i)
		p.closeDivisors(next)
		for len(p.aliases) > 0 && p.aliases[0].after < next {
			p.materialize()
			p.out = append(p.out, " AS "...)
			p.out = append(p.out, quoteIdent(p.aliases[0].name)...)
			p.aliases = p.aliases[1:]
		}
		i = next
	}
	for range p.divisors {
		p.out = append(p.out, ')') // an operand that never came: SQLite says so
	}
	p.divisors = nil
	if p.err == nil && len(p.frames) > 0 {
		// An unclosed parenthesis: let SQLite say so.
		for j := len(p.frames) - 1; j >= 0; j-- {
			if f := p.frames[j]; f.kind == fCast {
				p.fail("42601", len(p.toks)-1, "syntax error at end of input")
			}
		}
	}
	if p.err != nil {
		p.st.Err = p.err
		return
	}
	if len(closeAt) > 0 {
		// A DEFAULT that ends the statement (ALTER TABLE … ADD c t DEFAULT x).
		end := int(p.toks[len(p.toks)-1].end)
		p.out = append(p.out, p.src[p.last:end]...)
		p.last = end
		for range closeAt {
			p.out = append(p.out, ')')
		}
	}
	p.typeSeriesColumns()
	sql := p.src
	if p.edited {
		p.out = append(p.out, p.src[p.last:]...)
		// out is not written again: the string shares its bytes, as
		// strings.Builder's does.
		sql = unsafe.String(unsafe.SliceData(p.out), len(p.out))
	}
	sql = strings.TrimRight(sql, " \t\r\n")
	p.st.SQL = sql
	if len(p.holes) > 0 {
		p.splitHoles(sql)
	}
}

// materialize starts the output: until the first rewrite, the output is
// the source, and nothing is copied (a statement that needs no rewriting,
// whatever the size of its literals, costs no copy).
func (p *parser) materialize() {
	if p.edited {
		return
	}
	p.edited = true
	// Room for the usual growth (aliases, casts), so that a statement
	// holding a large literal is copied once.
	p.out = make([]byte, 0, len(p.src)+len(p.src)/16+256)
	p.out = append(p.out, p.src[:p.last]...)
}

// outLen is the length of the output so far.
func (p *parser) outLen() int {
	if !p.edited {
		return p.last
	}
	return len(p.out)
}

// gap copies the source up to token i.
func (p *parser) gap(i int) {
	if !p.edited {
		p.last = int(p.toks[i].start)
		return
	}
	if s := int(p.toks[i].start); s > p.last {
		p.out = append(p.out, p.src[p.last:s]...)
	}
	p.last = int(p.toks[i].start)
}

// keep copies token i as it is.
func (p *parser) keep(i int) {
	if !p.edited {
		p.last = int(p.toks[i].end)
		return
	}
	p.gap(i)
	p.out = append(p.out, p.text(i)...)
	p.last = int(p.toks[i].end)
}

// replace writes s in place of token i.
func (p *parser) replace(i int, s string) {
	p.materialize()
	p.gap(i)
	p.out = append(p.out, s...)
	p.last = int(p.toks[i].end)
}

// drop leaves token i out.
func (p *parser) drop(i int) {
	p.materialize()
	p.gap(i)
	p.last = int(p.toks[i].end)
}

// notPrimary are the keywords after which no operand ends.
var notPrimary = map[string]bool{
	"select": true, "from": true, "where": true, "and": true, "or": true, "not": true, "in": true,
	"is": true, "like": true, "ilike": true, "as": true, "on": true, "join": true, "by": true, "having": true,
	"values": true, "set": true, "into": true, "when": true, "then": true, "else": true, "case": true,
	"between": true, "exists": true, "distinct": true, "all": true, "any": true, "some": true,
	"union": true, "intersect": true, "except": true, "returning": true, "limit": true, "offset": true,
	"using": true, "with": true, "group": true, "order": true, "update": true, "insert": true, "delete": true,
	"glob": true, "regexp": true, "match": true, "escape": true, "over": true, "partition": true,
	"filter": true, "within": true, "lateral": true, "do": true, "conflict": true, "table": true,
}

func (p *parser) step(i int) int {
	if p.edits != nil {
		if s, ok := p.edits[i]; ok {
			p.replace(i, s)
			p.prim = -1
			return i + 1
		}
	}
	t := p.toks[i]
	start := p.outLen() + (int(t.start) - p.last)
	switch t.kind {
	case tWord:
		return p.stepWord(i, start)
	case tQIdent:
		if strings.EqualFold(p.text(i), `"public"`) && p.isPunct(i+1, '.') && (p.kindAt(i+2) == tWord || p.kindAt(i+2) == tQIdent) {
			p.drop(i)
			p.drop(i + 1)
			return i + 2
		}
		p.keep(i)
		if !p.isPunct(i-1, '.') {
			p.prim, p.primLo = start, i
		}
		return i + 1
	case tString, tNumber, tParam:
		p.keep(i)
		p.prim, p.primLo = start, i
		return i + 1
	case tEString, tDollar:
		v, ok := p.literal(i)
		if !ok {
			return i + 1
		}
		p.replace(i, quoteString(v))
		p.prim, p.primLo = start, i
		return i + 1
	case tPunct:
		switch p.src[t.start] {
		case '(':
			f := frame{kind: fParen, start: start, startT: i, closer: ")"}
			if p.prim >= 0 && (p.kindAt(i-1) == tWord || p.kindAt(i-1) == tQIdent) {
				f.start, f.startT = p.prim, p.primLo
			}
			if open, closer, ok := p.derivedAlias(i); ok {
				p.replace(i, open)
				f.closer = closer
			} else {
				p.keep(i)
			}
			f.inner = p.outLen()
			p.frames = append(p.frames, f)
			p.prim = -1
			return i + 1
		case ')':
			if len(p.frames) == 0 {
				p.keep(i)
				p.prim = -1
				return i + 1
			}
			for len(p.frames) > 1 && p.frames[len(p.frames)-1].kind == fCase {
				p.frames = p.frames[:len(p.frames)-1] // a CASE without its END
			}
			f := p.frames[len(p.frames)-1]
			p.frames = p.frames[:len(p.frames)-1]
			if f.kind == fCase {
				p.keep(i)
				p.prim = -1
				return i + 1
			}
			if f.kind == fCast {
				p.fail("42601", i, `syntax error at or near ")"`)
				return i + 1
			}
			if f.closer == ")" {
				p.keep(i)
			} else {
				p.replace(i, f.closer)
			}
			p.prim, p.primLo = f.start, f.startT
			return i + 1
		case '.':
			p.keep(i)
			return i + 1 // a qualified name goes on
		case '[':
			if p.prim >= 0 {
				if !p.dml && (p.st.Verb == "CREATE" || p.st.Verb == "ALTER") {
					// CREATE TABLE … (tags text[]): a column's type.
					what := "array columns"
					if p.kindAt(i-1) == tWord {
						what += " (" + p.text(i-1) + "[])"
					}
					p.unsupported(i, what)
					return i + 1
				}
				p.unsupported(i, "array subscripts")
				return i + 1
			}
		}
		p.keep(i)
		p.prim = -1
		return i + 1
	case tOp:
		return p.stepOp(i, start)
	}
	p.keep(i)
	p.prim = -1
	return i + 1
}

func (p *parser) stepWord(i, start int) int {
	w := p.word(i)
	qualified := p.isPunct(i-1, '.')
	call := p.isPunct(i+1, '(')
	if qualified {
		p.keep(i)
		return i + 1
	}
	if call && p.schema != nil {
		if j, ok := p.portableCall(i, start); ok {
			return j
		}
	}
	if call && !namesRelation[p.word(i-1)] {
		if sqliteJSONB[w] {
			p.fail("42883", i, "function "+w+" does not exist")
			return i + 1
		}
		if to, ok := renamedFuncs[w]; ok {
			p.replace(i, to)
			p.prim, p.primLo = start, i
			return i + 1
		}
	}
	switch w {
	case "regexp_match", "regexp_matches":
		if call {
			p.unsupported(i, "arrays ("+w+")")
			return i + 1
		}
	case "pg_typeof":
		if end := p.matchParen(i + 1); call && end > i+2 {
			if name := regtypeNames[p.nameItemExpr(i+2, end).Type]; name != "" {
				// The front end knows the type, which SQLite's value
				// would not tell (a timestamptz is text to SQLite).
				p.replace(i, quoteString(name))
				for k := i + 1; k <= end; k++ {
					p.drop(k)
				}
				p.prim, p.primLo = start, i
				return end + 1
			}
		}
	case "overriding":
		// INSERT … OVERRIDING SYSTEM VALUE (pg_dump --inserts writes it for
		// a GENERATED ALWAYS identity): here such a column takes the value
		// given anyway. OVERRIDING USER VALUE, which discards it, is not
		// taken.
		if p.word(0) == "insert" && p.word(i+1) == "system" && p.word(i+2) == "value" {
			p.drop(i)
			p.drop(i + 1)
			p.drop(i + 2)
			return i + 3
		}
	case "public":
		if p.isPunct(i+1, '.') && (p.kindAt(i+2) == tWord || p.kindAt(i+2) == tQIdent) {
			p.drop(i)
			p.drop(i + 1)
			return i + 2
		}
	case "now", "clock_timestamp", "transaction_timestamp", "statement_timestamp":
		if call && p.isPunct(i+2, ')') {
			p.replace(i, "CURRENT_TIMESTAMP")
			p.drop(i + 1)
			p.drop(i + 2)
			p.prim, p.primLo = start, i
			return i + 3
		}
	case "current_timestamp", "localtimestamp":
		if !call {
			p.replace(i, "CURRENT_TIMESTAMP")
			p.prim, p.primLo = start, i
			return i + 1
		}
		if clock, ok := clockPrecision(p.text(i+2), false); ok && p.kindAt(i+2) == tNumber && p.isPunct(i+3, ')') {
			p.replace(i, clock)
			p.drop(i + 1)
			p.drop(i + 2)
			p.drop(i + 3)
			p.prim, p.primLo = start, i
			return i + 4
		}
	case "localtime", "current_time":
		if !call && w == "localtime" {
			p.replace(i, "CURRENT_TIME")
			p.prim, p.primLo = start, i
			return i + 1
		}
		if clock, ok := clockPrecision(p.text(i+2), true); ok && call && p.kindAt(i+2) == tNumber && p.isPunct(i+3, ')') {
			p.replace(i, clock)
			p.drop(i + 1)
			p.drop(i + 2)
			p.drop(i + 3)
			p.prim, p.primLo = start, i
			return i + 4
		}
	case "current_user", "session_user", "user", "current_role":
		if !call && p.dml && !p.isPunct(i+1, '.') {
			p.materialize()
			p.gap(i)
			p.mark(hole{kind: holeUser})
			p.last = int(p.toks[i].end)
			p.prim, p.primLo = start, i
			return i + 1
		}
	case "gen_random_uuid":
		if call && p.isPunct(i+2, ')') {
			p.replace(i, RandomUUIDExpr)
			p.drop(i + 1)
			p.drop(i + 2)
			p.prim, p.primLo = start, i
			return i + 3
		}
	case "greatest", "least":
		if call {
			// SQLite's scalar max and min; unlike Postgres' they are NULL
			// when any argument is.
			p.replace(i, map[string]string{"greatest": "max", "least": "min"}[w])
			p.prim, p.primLo = start, i
			return i + 1
		}
	case "array_agg":
		if call {
			// json_group_array keeps NULLs, DISTINCT and ORDER BY as
			// array_agg has them; _pg_array_text writes its array in
			// Postgres' text form. FILTER and OVER would have to go
			// inside _pg_array_text's call.
			if end := p.matchParen(i + 1); end > 0 && (p.word(end+1) == "filter" || p.word(end+1) == "over") {
				p.unsupported(end+1, "array_agg(…) "+strings.ToUpper(p.word(end+1)))
				return i + 1
			}
			p.replace(i, arrayTextFunc+"(json_group_array(")
			p.drop(i + 1)
			p.frames = append(p.frames, frame{kind: fParen, start: start, startT: i, inner: p.outLen(), closer: "))"})
			p.prim = -1
			return i + 2
		}
	case "ilike":
		// SQLite's LIKE ignores ASCII case, which is ILIKE.
		p.replace(i, "LIKE")
		p.prim = -1
		return i + 1
	case "has_table_privilege", "has_schema_privilege", "has_database_privilege", "has_column_privilege",
		"has_sequence_privilege", "has_function_privilege", "has_any_column_privilege", "has_type_privilege":
		// raftsql's rights are per user over the whole database (read,
		// write, admin), so a user that can send this may read what it
		// names.
		if end := p.matchParen(i + 1); call && end > 0 {
			p.replace(i, "1")
			for k := i + 1; k <= end; k++ {
				p.drop(k)
			}
			p.prim, p.primLo = start, i
			return end + 1
		}
	case "position", "substring", "trim":
		if call {
			if j, ok := p.keywordCall(i, start); ok {
				return j
			}
		}
	case "generate_series":
		if call {
			if !p.inFrom(i) {
				if j, ok := p.selectSeries(i); ok {
					return j
				}
				p.unsupported(i, "generate_series outside FROM and a select list of its own")
				return i + 1
			}
			return p.series(i, start)
		}
	case "extract":
		if call {
			return p.extract(i, start)
		}
	case "date_part":
		if call && p.kindAt(i+2) == tString && p.isPunct(i+3, ',') {
			return p.extract(i, start)
		}
	case "date_trunc":
		if call {
			return p.dateTrunc(i, start)
		}
	case "at":
		if j, ok := p.atTimeZone(i); ok {
			return j
		}
	case "timezone":
		if call {
			if j, ok := p.timezoneCall(i, start); ok {
				return j
			}
		}
	case "cast":
		if call {
			p.replace(i, "")
			p.gap(i + 1)
			p.last = int(p.toks[i+1].end)
			p.frames = append(p.frames, frame{kind: fCast, start: start, startT: i, inner: p.outLen()})
			p.prim = -1
			return i + 2
		}
	case "as":
		if n := len(p.frames); n > 0 && p.frames[n-1].kind == fCast {
			return p.endCast(i)
		}
	case "case":
		p.keep(i)
		p.frames = append(p.frames, frame{kind: fCase, start: start, startT: i})
		p.prim = -1
		return i + 1
	case "end":
		// CASE … END is a primary: END::text casts it all.
		if n := len(p.frames); n > 0 && p.frames[n-1].kind == fCase {
			f := p.frames[n-1]
			p.frames = p.frames[:n-1]
			p.keep(i)
			p.prim, p.primLo = f.start, f.startT
			return i + 1
		}
	case "for":
		if j, ok := p.lockingClause(i); ok {
			for k := i; k < j; k++ {
				p.drop(k)
			}
			p.prim = -1
			return j
		}
	case "fetch":
		if i > 0 {
			if j, n, ok := p.fetchFirst(i); ok {
				p.replace(i, "LIMIT "+n)
				for k := i + 1; k < j; k++ {
					p.drop(k)
				}
				p.prim = -1
				return j
			}
		}
	case "offset":
		// OFFSET n ROWS FETCH FIRST m ROWS ONLY: SQLite wants LIMIT first.
		if k := p.kindAt(i + 1); k == tNumber || k == tParam {
			j := i + 2
			if w := p.word(j); w == "row" || w == "rows" {
				j++
			}
			if p.word(j) == "fetch" {
				if end, n, ok := p.fetchFirst(j); ok {
					p.replace(i, "LIMIT "+n+" OFFSET "+p.text(i+1))
					for k := i + 1; k < end; k++ {
						p.drop(k)
					}
					p.prim = -1
					return end
				}
			}
		}
	case "row", "rows":
		if p.kindAt(i-1) == tNumber && p.word(i-2) == "offset" || p.kindAt(i-1) == tParam && p.word(i-2) == "offset" {
			p.drop(i)
			return i + 1
		}
	case "array":
		if p.isPunct(i+1, '[') || call {
			p.unsupported(i, "arrays")
			return i + 1
		}
		if !p.dml && p.kindAt(i-1) == tWord && (p.st.Verb == "CREATE" || p.st.Verb == "ALTER") {
			p.unsupported(i-1, "array columns ("+p.text(i-1)+" ARRAY)")
			return i + 1
		}
	case "similar":
		if p.word(i+1) == "to" {
			p.unsupported(i, "SIMILAR TO")
			return i + 1
		}
	case "any", "some", "all":
		if call && p.kindAt(i-1) == tOp {
			if j, ok := p.anyArray(i); ok {
				return j
			}
			p.unsupported(i, strings.ToUpper(w)+" (array)")
			return i + 1
		}
	case "operator":
		if call {
			p.unsupported(i, "OPERATOR()")
			return i + 1
		}
	case "interval":
		if k := p.kindAt(i + 1); k == tString || k == tEString || k == tDollar {
			p.unsupported(i, "an interval that is not added to or subtracted from a timestamp")
			return i + 1
		}
	case "date", "timestamp", "timestamptz", "time", "uuid", "json", "jsonb", "bytea", "boolean":
		// A typed literal: date '2020-01-01'.
		if k := p.kindAt(i + 1); (k == tString || k == tEString || k == tDollar) && !p.isOp(i-1, "::") {
			typ := canonicalType(w)
			if w == "timestamp" && p.word(i+1) == "with" {
				break
			}
			v, ok := p.literal(i + 1)
			if !ok {
				return i + 2
			}
			s, ok := p.castLiteral(typ, v, i+1)
			if !ok {
				return i + 2
			}
			p.replace(i, s)
			p.drop(i + 1)
			p.prim, p.primLo = start, i
			return i + 2
		}
	}
	p.keep(i)
	if notPrimary[w] {
		p.prim = -1
	} else {
		p.prim, p.primLo = start, i
	}
	return i + 1
}

// RandomUUIDExpr is gen_random_uuid(): a version 4 UUID from randomblob, which a
// write draws from the generator every node seeds alike. It holds no
// subquery, so that it may stand as a column's DEFAULT, where SQLite
// refuses one; the catalogs show a column default of it as the call.
const RandomUUIDExpr = "(lower(hex(randomblob(4))||'-'||hex(randomblob(2))||'-4'||substr(hex(randomblob(2)),2)||'-'||" +
	"substr('89ab',1+(random()&3),1)||substr(hex(randomblob(2)),2)||'-'||hex(randomblob(6))))"

func (p *parser) stepOp(i, start int) int {
	op := p.text(i)
	if p.schema != nil {
		if where := p.schemaAt(i); where.strict() {
			switch op {
			case "~*", "!~*", "#>", "#>>", "||/", "@>", "<@", "?", "?|", "?&":
				p.refuseStored(i, "the operator "+op, where)
				return i + 1
			}
		}
	}
	switch op {
	case "::":
		if p.prim < 0 {
			p.fail("42601", i, `syntax error at or near "::"`)
			return i + 1
		}
		typ, display, j := p.readType(i + 1)
		if typ == "" {
			p.fail("42601", i+1, "syntax error at or near "+strconv.Quote(p.text(i+1)))
			return i + 1
		}
		p.drop(i)
		operand := string(p.out[p.prim:])
		lit, isLit := "", false
		if p.primLo == i-1 {
			switch p.kindAt(i - 1) {
			case tString, tEString, tDollar:
				lit, isLit = p.literal(i - 1)
			}
		}
		p.out = p.out[:p.prim]
		for k := i + 1; k < j; k++ {
			p.drop(k)
		}
		s, ok := p.cast(typ, display, operand, lit, isLit, p.kindAt(i-1) == tParam && p.primLo == i-1, i+1, i-1)
		if !ok {
			return j
		}
		p.out = append(p.out, s...)
		return j
	case "~", "~*", "!~", "!~*":
		if p.prim < 0 {
			break // bitwise not
		}
		r := map[string]string{"~": "REGEXP", "~*": "REGEXP '(?i)' ||", "!~": "NOT REGEXP", "!~*": "NOT REGEXP '(?i)' ||"}[op]
		p.replace(i, r)
		p.prim = -1
		return i + 1
	case "+", "-":
		if op == "-" && p.prim >= 0 && p.jsonbBefore(i) {
			if p.refuseJSONBStored(i, "jsonb's -") {
				return i + 1
			}
			return p.binaryCall(i, jsonbDeleteFunc, wOther)
		}
		if p.prim >= 0 && p.word(i+1) == "interval" {
			k := p.kindAt(i + 2)
			if k != tString && k != tEString && k != tDollar {
				break
			}
			v, ok := p.literal(i + 2)
			if !ok {
				return i + 3
			}
			mods, ok := intervalModifiers(v, op == "-")
			if !ok {
				p.fail("22007", i+2, "invalid input syntax for type interval: "+strconv.Quote(v))
				return i + 3
			}
			p.materialize()
			lhs := string(p.out[p.prim:])
			p.out = append(p.out[:p.prim], "datetime("...)
			p.out = append(p.out, lhs...)
			p.out = append(p.out, mods...)
			p.out = append(p.out, ')')
			p.drop(i)
			p.drop(i + 1)
			p.drop(i + 2)
			return i + 3
		}
	case "->", "->>":
		if p.prim >= 0 && p.jsonKey(i+1) {
			return p.jsonArrow(i)
		}
	case "^":
		if p.prim >= 0 {
			return p.binaryCall(i, "power", wPower)
		}
	case "#>", "#>>":
		if p.prim >= 0 {
			fn := jsonPathFunc
			if op == "#>>" {
				fn = jsonPathTextFunc
			}
			return p.binaryCall(i, fn, wOther)
		}
	case "||":
		if p.prim >= 0 && (p.jsonbBefore(i) || p.jsonbAfter(i+1)) {
			if p.refuseJSONBStored(i, "jsonb's ||") {
				return i + 1
			}
			return p.binaryCall(i, jsonbConcatFunc, wOther)
		}
	case "@>", "<@", "?", "?|", "?&":
		if p.prim >= 0 {
			return p.binaryCall(i, jsonbOperators[op], wOther)
		}
	case "|/", "||/", "@":
		if p.prim < 0 {
			fn := map[string]string{"|/": "sqrt", "||/": "cbrt", "@": "abs"}[op]
			p.drop(i)
			p.out = append(p.out, fn+"("...)
			if i+1 < len(p.toks) {
				p.last = int(p.toks[i+1].start) // no space after the (
			}
			p.divisors = append(p.divisors, divisor{depth: len(p.frames), at: len(p.out), kind: wPrefix,
				start: p.outLen() - len(fn) - 1, startT: i})
			return i + 1
		}
	case "/", "%":
		if p.prim >= 0 && p.dml && !p.nonzeroLiteral(i+1) {
			return p.divide(i)
		}
	}
	p.keep(i)
	p.prim = -1
	return i + 1
}

// renamedFuncs are Postgres functions SQLite has under another name, with
// the same arguments.
var renamedFuncs = map[string]string{
	"json_build_object": "json_object", "jsonb_build_object": "json_object",
	"json_build_array": "json_array", "jsonb_build_array": "json_array",
	"json_agg": "json_group_array", "jsonb_agg": "json_group_array",
	"json_object_agg": "json_group_object", "jsonb_object_agg": "json_group_object",
	"to_json": "json_quote", "to_jsonb": "json_quote",
	"jsonb_array_length": "json_array_length", "jsonb_set": jsonbSetFunc, "jsonb_insert": jsonbInsertFunc,
	"strpos": "instr", "chr": "char", "ascii": "unicode", "btrim": "trim",
	"char_length": "length", "character_length": "length",
	// A boolean is stored as 0 or 1: every one true is the least of them,
	// any one true the greatest (NULLs left out, as Postgres leaves them).
	"bool_and": "min", "every": "min", "bool_or": "max",
}

// namesRelation are the words after which a name followed by ( is a
// relation's (INSERT INTO ascii (…)), not a call.
var namesRelation = map[string]bool{
	"into": true, "table": true, "exists": true, "references": true, "view": true, "update": true,
	"join": true, "trigger": true,
}

// regtypeNames are the names pg_typeof answers, by the front end's type.
var regtypeNames = map[string]string{
	"int2": "smallint", "int4": "integer", "int8": "bigint", "float4": "real", "float8": "double precision",
	"numeric": "numeric", "text": "text", "varchar": "character varying", "bpchar": "character",
	"bool": "boolean", "bytea": "bytea", "date": "date", "time": "time without time zone",
	"timestamp": "timestamp without time zone", "timestamptz": "timestamp with time zone",
	"uuid": "uuid", "json": "json", "jsonb": "jsonb", "name": "name",
}

// binaryCall turns the operator at token i into a call of fn on its left
// operand, the primary before it (with its sign for ^, which binds looser
// than a unary minus), and its right, the unary expression after it.
func (p *parser) binaryCall(i int, fn string, kind wrapKind) int {
	lo, loT := p.prim, p.primLo
	p.drop(i)
	lhs := strings.TrimRight(string(p.out[lo:]), " \t\r\n")
	if kind == wPower && loT >= 1 && (p.isOp(loT-1, "-") || p.isOp(loT-1, "+")) && p.signAt(loT-1) {
		k := lo
		for k > 0 && (p.out[k-1] == ' ' || p.out[k-1] == '\t' || p.out[k-1] == '\n' || p.out[k-1] == '\r') {
			k--
		}
		if k > 0 && (p.out[k-1] == '-' || p.out[k-1] == '+') {
			lo, loT = k-1, loT-1
			lhs = strings.TrimRight(string(p.out[lo:]), " \t\r\n")
		}
	}
	p.out = append(p.out[:lo], fn+"("...)
	p.out = append(p.out, lhs...)
	p.out = append(p.out, ',')
	p.divisors = append(p.divisors, divisor{depth: len(p.frames), at: len(p.out), kind: kind, start: lo, startT: loT})
	p.prim = -1
	return i + 1
}

// signAt reports whether the + or - at token i is a sign, not an operator
// between two operands.
func (p *parser) signAt(i int) bool {
	if i == 0 {
		return true
	}
	switch p.kindAt(i - 1) {
	case tOp:
		return !p.isOp(i-1, "::")
	case tPunct:
		return p.isPunct(i-1, '(') || p.isPunct(i-1, ',')
	case tWord:
		return notPrimary[p.word(i-1)] || reservedAfter[p.word(i-1)] && p.word(i-1) != "end" && p.word(i-1) != "null" &&
			p.word(i-1) != "true" && p.word(i-1) != "false"
	}
	return false
}

// endCast finishes CAST(operand AS type) at the AS.
func (p *parser) endCast(i int) int {
	f := p.frames[len(p.frames)-1]
	typ, display, j := p.readType(i + 1)
	if typ == "" || !p.isPunct(j, ')') {
		p.fail("42601", j, "syntax error at or near "+strconv.Quote(p.text(j)))
		return i + 1
	}
	p.frames = p.frames[:len(p.frames)-1]
	p.materialize()
	operand := string(p.out[f.inner:])
	lit, isLit := "", false
	param := false
	if f.startT+3 == i {
		switch p.kindAt(i - 1) {
		case tString, tEString, tDollar:
			lit, isLit = p.literal(i - 1)
		case tParam:
			param = true
		}
	}
	operand = strings.TrimSpace(operand)
	for k := i; k <= j; k++ {
		p.drop(k)
	}
	p.out = p.out[:f.start]
	s, ok := p.cast(typ, display, operand, lit, isLit, param, i+1, i-1)
	if !ok {
		return j + 1
	}
	p.out = append(p.out, s...)
	p.prim, p.primLo = f.start, f.startT
	return j + 1
}

// lockingClause recognises FOR UPDATE|NO KEY UPDATE|SHARE|KEY SHARE [OF
// names] [NOWAIT|SKIP LOCKED], repeated; SQLite's writes are serial, so the
// rows are as locked as they can be. It returns the token after it.
func (p *parser) lockingClause(i int) (int, bool) {
	found := false
	for p.word(i) == "for" {
		j := i + 1
		switch {
		case p.word(j) == "update" || p.word(j) == "share":
			j++
		case p.word(j) == "no" && p.word(j+1) == "key" && p.word(j+2) == "update":
			j += 3
		case p.word(j) == "key" && p.word(j+1) == "share":
			j += 2
		default:
			return i, found
		}
		if p.word(j) == "of" {
			j++
			for p.kindAt(j) == tWord || p.kindAt(j) == tQIdent {
				j++
				if p.isPunct(j, '.') {
					j += 2
				}
				if !p.isPunct(j, ',') {
					break
				}
				j++
			}
		}
		switch {
		case p.word(j) == "nowait":
			j++
		case p.word(j) == "skip" && p.word(j+1) == "locked":
			j += 2
		}
		i, found = j, true
	}
	return i, found
}

// fetchFirst recognises FETCH FIRST|NEXT [n] ROW|ROWS ONLY.
func (p *parser) fetchFirst(i int) (int, string, bool) {
	j := i + 1
	if w := p.word(j); w != "first" && w != "next" {
		return i, "", false
	}
	j++
	n := "1"
	if k := p.kindAt(j); k == tNumber || k == tParam {
		n = p.text(j)
		j++
	}
	if w := p.word(j); w != "row" && w != "rows" {
		return i, "", false
	}
	j++
	if p.word(j) != "only" {
		if p.word(j) == "with" && p.word(j+1) == "ties" {
			p.unsupported(j, "FETCH … WITH TIES")
		}
		return i, "", false
	}
	return j + 1, n, true
}

// extract translates extract(field FROM x).
func (p *parser) extract(i, start int) int {
	field := p.word(i + 2)
	if p.kindAt(i+2) == tString {
		field = strings.ToLower(strings.Trim(p.text(i+2), "'"))
	}
	if p.word(i+3) != "from" && (p.word(i) != "date_part" || !p.isPunct(i+3, ',')) {
		p.fail("42601", i+3, "syntax error at or near "+strconv.Quote(p.text(i+3)))
		return i + 1
	}
	if j, ok := p.zonedPart(i, start, field); ok {
		return j
	}
	var open, closer string
	switch field {
	case "year", "month", "day", "hour", "minute", "dow", "doy", "isodow", "week", "isoyear":
		f := map[string]string{"year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M",
			"dow": "%w", "doy": "%j", "isodow": "%u", "week": "%V", "isoyear": "%G"}[field]
		open, closer = "CAST(strftime('"+f+"', ", ") AS INTEGER)"
	case "second":
		open, closer = "CAST(strftime('%f', ", ") AS REAL)"
	case "epoch":
		open, closer = "unixepoch(", ", 'subsec')"
		if p.schemaAt(i) != 0 {
			// 'subsec' came with SQLite 3.42; an older sqlite3 answers
			// NULL (schemafuncs.go).
			open, closer = epochOpen, epochClose
		}
	case "quarter":
		open, closer = "((CAST(strftime('%m', ", ") AS INTEGER)+2)/3)"
	default:
		p.unsupported(i+2, "extract("+field+" from …)")
		return i + 1
	}
	p.replace(i, open)
	p.drop(i + 1)
	p.drop(i + 2)
	p.drop(i + 3)
	p.frames = append(p.frames, frame{kind: fParen, start: start, startT: i, inner: p.outLen(), closer: closer})
	p.prim = -1
	return i + 4
}

// dateTrunc translates date_trunc('unit', x).
func (p *parser) dateTrunc(i, start int) int {
	if p.kindAt(i+2) != tString || !p.isPunct(i+3, ',') {
		p.unsupported(i, "date_trunc with a unit that is not a literal")
		return i + 1
	}
	unit := strings.ToLower(strings.Trim(p.text(i+2), "'"))
	if j, ok := p.zonedTrunc(i, start, unit); ok {
		return j
	}
	var open, closer string
	switch unit {
	case "year", "month", "day", "hour", "minute", "second":
		f := map[string]string{"year": "%Y-01-01 00:00:00", "month": "%Y-%m-01 00:00:00", "day": "%Y-%m-%d 00:00:00",
			"hour": "%Y-%m-%d %H:00:00", "minute": "%Y-%m-%d %H:%M:00", "second": "%Y-%m-%d %H:%M:%S"}[unit]
		open, closer = "strftime('"+f+"', ", ")"
	case "week":
		open, closer = "strftime('%Y-%m-%d 00:00:00', ", ", '-6 days', 'weekday 1')"
	default:
		p.unsupported(i+2, "date_trunc('"+unit+"', …)")
		return i + 1
	}
	p.replace(i, open)
	p.drop(i + 1)
	p.drop(i + 2)
	p.drop(i + 3)
	p.frames = append(p.frames, frame{kind: fParen, start: start, startT: i, inner: p.outLen(), closer: closer})
	p.prim = -1
	return i + 4
}

// literal returns the value of string token i ('…', E'…', $$…$$).
func (p *parser) literal(i int) (string, bool) {
	s := p.text(i)
	switch p.kindAt(i) {
	case tString:
		if len(s) < 2 || s[len(s)-1] != '\'' {
			p.fail("42601", i, "unterminated quoted string")
			return "", false
		}
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), true
	case tDollar:
		j := strings.IndexByte(s[1:], '$') + 2
		delim := s[:j]
		if len(s) < 2*j || !strings.HasSuffix(s, delim) {
			p.fail("42601", i, "unterminated dollar-quoted string")
			return "", false
		}
		return s[j : len(s)-j], true
	case tEString:
		v, msg := unescapeE(s)
		if msg != "" {
			p.fail("22025", i, msg)
			return "", false
		}
		return v, true
	}
	return "", false
}

// sqliteKeywords are the keywords SQLite takes as no name (those its
// grammar does not fall back to an identifier), which Postgres takes as
// a column label after AS: MikroORM selects c.condeferrable AS
// deferrable, idx.indisunique AS unique.
var sqliteKeywords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`add all alter and autoincrement between case check collate commit
		constraint create cross default deferrable delete distinct drop else escape except exists filter
		foreign from full glob group having in index inner insert intersect into is isnull join left limit
		natural not nothing notnull null on or order outer over primary references returning right rollback
		select set table then to transaction union unique update using values when where window`) {
		sqliteKeywords[w] = true
	}
}

// SQLiteKeyword reports whether SQLite takes the word w (lower case) as
// no name: as a column label it must be quoted.
func SQLiteKeyword(w string) bool { return sqliteKeywords[w] }

// quoteKeywordAliases quotes a column label after AS that SQLite would
// read as a keyword (x AS unique, y AS order), as Postgres reads it as a
// name. What follows AS elsewhere (CREATE TABLE … AS SELECT, WITH c AS
// (…), AS NOT MATERIALIZED, CAST(x AS type)) is no such word, or is
// followed by a parenthesis.
func (p *parser) quoteKeywordAliases() {
	for i := 1; i < len(p.toks); i++ {
		if p.word(i-1) != "as" {
			continue
		}
		w := p.word(i)
		if !sqliteKeywords[w] || p.isPunct(i+1, '(') {
			continue
		}
		switch w {
		case "select", "values", "table", "not", "with":
			continue
		}
		if _, edited := p.edits[i]; edited {
			continue
		}
		if p.edits == nil {
			p.edits = map[int]string{}
		}
		p.edits[i] = quoteIdent(w)
	}
}
