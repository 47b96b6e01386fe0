package pgsql

import "strings"

// Postgres' DELETE FROM t [AS a] USING from_list [WHERE cond] [RETURNING
// …] joins other tables to choose the rows to delete; SQLite's DELETE has
// no USING. It becomes the DELETE of the rows a join of the same tables
// and condition selects, by rowid:
//
//	DELETE FROM t [AS a] WHERE rowid IN (SELECT a.rowid FROM t [AS] a, from_list [WHERE cond]) [RETURNING …]
//
// (in RETURNING, a.col becomes t.col: SQLite's knows no alias there), and
// is parsed again as that statement, as DISTINCT ON is.

// deleteUsing returns the rewriting of a DELETE … USING; ok is false for
// any other statement.
func (p *parser) deleteUsing() (sql string, ok bool) {
	if p.word(0) != "delete" || p.word(1) != "from" {
		return "", false
	}
	// The target: a (qualified) name, then an optional alias.
	j := 2
	if p.word(j) == "only" {
		j++
	}
	nameStart := j
	if k := p.kindAt(j); k != tWord && k != tQIdent {
		return "", false
	}
	for p.isPunct(j+1, '.') && (p.kindAt(j+2) == tWord || p.kindAt(j+2) == tQIdent) {
		j += 2
	}
	nameEnd := j
	ref := p.text(j) // how the condition names the table
	j++
	alias := ""
	if p.word(j) == "as" {
		j++
	}
	if k := p.kindAt(j); (k == tWord && p.word(j) != "using") || k == tQIdent {
		alias, ref = p.text(j), p.text(j)
		j++
	}
	if p.word(j) != "using" {
		return "", false
	}
	using := j
	// WHERE and RETURNING at the statement's own level.
	where, returning, depth := -1, -1, 0
	for k := using + 1; k < len(p.toks); k++ {
		switch {
		case p.isPunct(k, '('):
			depth++
		case p.isPunct(k, ')'):
			depth--
		case depth != 0:
		case p.word(k) == "where" && where < 0 && returning < 0:
			where = k
		case p.word(k) == "returning":
			returning = k
		}
	}
	end := len(p.toks)
	if returning >= 0 {
		end = returning
	}
	fromEnd := end
	if where >= 0 {
		fromEnd = where
	}
	if fromEnd <= using+1 {
		return "", false // USING with nothing after it: SQLite's syntax error
	}
	span := func(a, b int) string { return p.src[p.toks[a].start:p.toks[b-1].end] }
	table := span(nameStart, nameEnd+1)
	target := table
	if alias != "" {
		target += " AS " + alias
	}
	var b strings.Builder
	b.WriteString("DELETE FROM " + target + " WHERE rowid IN (SELECT " + ref + ".rowid FROM " + target + ", " + span(using+1, fromEnd))
	if where >= 0 {
		b.WriteString(" " + span(where, end))
	}
	b.WriteString(")")
	if returning >= 0 {
		// SQLite's RETURNING knows the table by its name, not by an alias.
		b.WriteByte(' ')
		from := p.toks[returning].start
		for k := returning; k < len(p.toks); k++ {
			if alias != "" && p.isPunct(k+1, '.') && strings.EqualFold(p.text(k), alias) {
				b.WriteString(p.src[from:p.toks[k].start] + p.text(nameEnd))
				from = p.toks[k].end
			}
		}
		b.WriteString(p.src[from:p.toks[len(p.toks)-1].end])
	}
	return b.String(), true
}
