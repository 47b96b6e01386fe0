package pgsql

import (
	"strconv"
	"strings"
)

// A subquery in FROM with column aliases, which SQLite's grammar does not
// have, becomes a common table expression that names the columns, in a
// subquery that keeps the alias:
//
//	FROM (VALUES ('id', 23), ('n', 25)) s(name, tp)
//	FROM (WITH _pg_d5("name", "tp") AS (VALUES ('id', 23), ('n', 25)) SELECT * FROM _pg_d5) s
//
// psql's \gdesc sends the first form; so do tools that build a relation
// from literals. The subquery may be a SELECT, VALUES or WITH; it is
// translated as any other.

// derivedAlias reports whether the '(' at token i opens a subquery in FROM
// followed by an alias with a column list, and then gives what the '('
// and its ')' become; the column list's tokens are dropped.
func (p *parser) derivedAlias(i int) (open, closer string, ok bool) {
	switch p.word(i + 1) {
	case "select", "values", "with":
	default:
		return "", "", false
	}
	end := p.matchParen(i)
	if end < 0 {
		return "", "", false
	}
	a := end + 1
	if p.word(a) == "as" {
		a++
	}
	if k := p.kindAt(a); !(k == tQIdent || k == tWord && !notAlias[p.word(a)] && !notPrimary[p.word(a)]) {
		return "", "", false
	}
	if !p.isPunct(a+1, '(') || !p.inFrom(i) {
		return "", "", false
	}
	var cols []string
	j := a + 2
	for {
		name, isName := p.name(j)
		if !isName {
			return "", "", false
		}
		cols = append(cols, quoteIdent(name))
		if p.isPunct(j+1, ')') {
			break
		}
		if !p.isPunct(j+1, ',') {
			return "", "", false
		}
		j += 2
	}
	if p.edits == nil {
		p.edits = map[int]string{}
	}
	for k := a + 1; k <= j+1; k++ {
		p.edits[k] = ""
	}
	cte := "_pg_d" + strconv.Itoa(i)
	return "(WITH " + cte + "(" + strings.Join(cols, ", ") + ") AS (", ") SELECT * FROM " + cte + ")", true
}
