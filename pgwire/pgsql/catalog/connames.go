package catalog

import (
	"strings"
	"sync"
)

// A constraint keeps the name its CREATE TABLE gave it (CONSTRAINT
// "FK_870a…" FOREIGN KEY …, as TypeORM and Prisma name theirs), which
// SQLite's pragmas do not report: declaredConstraint reads it from the
// table's text in sqlite_schema, and the catalog views fall back to the
// names Postgres makes up (TABLE_pkey, TABLE_COLUMNS_key,
// TABLE_COLUMNS_fkey) for a constraint declared without one. A tool that
// compares the names it gave with the catalog's then finds its schema up
// to date instead of dropping and adding constraints.

// declaredConstraint returns the name given in the CREATE TABLE text sql
// to its constraint of kind ('p' primary key, 'u' unique, 'f' foreign key)
// over cols (comma-separated, as the views list them; any columns for a
// primary key), or "" when it has none.
func declaredConstraint(sql, kind, cols string) string {
	if !strings.Contains(strings.ToLower(sql), "constraint") {
		return ""
	}
	var want []string
	for _, c := range strings.Split(cols, ",") {
		if c = strings.TrimSpace(c); c != "" {
			want = append(want, c)
		}
	}
	for _, c := range tableConstraints(sql) {
		if c.kind != kind || (kind != "p" && !sameNames(c.cols, want)) {
			continue
		}
		return c.name
	}
	return ""
}

type namedConstraint struct {
	name, kind string
	cols       []string
}

var (
	constraintsMu    sync.Mutex
	constraintsCache = map[string][]namedConstraint{}
)

// tableConstraints are the named constraints of a CREATE TABLE, cached by
// its text (the views ask once per constraint).
func tableConstraints(sql string) []namedConstraint {
	constraintsMu.Lock()
	cs, ok := constraintsCache[sql]
	constraintsMu.Unlock()
	if ok {
		return cs
	}
	cs = parseConstraints(sql)
	constraintsMu.Lock()
	if len(constraintsCache) >= 256 {
		clear(constraintsCache)
	}
	constraintsCache[sql] = cs
	constraintsMu.Unlock()
	return cs
}

func parseConstraints(sql string) []namedConstraint {
	var toks []token
	for _, t := range lex(sql) {
		if t.kind != tSpace {
			toks = append(toks, t)
		}
	}
	open := -1
	for i, t := range toks {
		if t.isOp("(") {
			open = i
			break
		}
	}
	if open < 0 {
		return nil
	}
	end := matching(toks, open)
	if end < 0 {
		return nil
	}
	var out []namedConstraint
	for _, el := range splitArgs(toks[open+1 : end]) {
		if len(el) == 0 {
			continue
		}
		if el[0].is("constraint") {
			// CONSTRAINT name PRIMARY KEY | UNIQUE | FOREIGN KEY (cols) …
			if len(el) < 3 {
				continue
			}
			c := namedConstraint{name: rawName(el[1])}
			j := 2
			switch {
			case el[j].is("primary"):
				c.kind = "p"
			case el[j].is("unique"):
				c.kind = "u"
			case el[j].is("foreign"):
				c.kind = "f"
			default:
				continue
			}
			for j < len(el) && !el[j].isOp("(") {
				j++
			}
			if j == len(el) {
				continue
			}
			k := matching(el, j)
			if k < 0 {
				continue
			}
			for _, a := range splitArgs(el[j+1 : k]) {
				if len(a) > 0 {
					c.cols = append(c.cols, rawName(a[0]))
				}
			}
			out = append(out, c)
			continue
		}
		if el[0].kind != tIdent && el[0].kind != tQIdent {
			continue
		}
		// A column: col type … CONSTRAINT name PRIMARY KEY | UNIQUE | REFERENCES …
		col := rawName(el[0])
		for j := 1; j+2 < len(el); j++ {
			if !el[j].is("constraint") {
				continue
			}
			c := namedConstraint{name: rawName(el[j+1]), cols: []string{col}}
			switch k := el[j+2]; {
			case k.is("primary"):
				c.kind = "p"
			case k.is("unique"):
				c.kind = "u"
			case k.is("references"):
				c.kind = "f"
			default:
				continue
			}
			out = append(out, c)
		}
	}
	return out
}

// rawName is a name as SQLite keeps it: a quoted one without its quotes,
// any other as written.
func rawName(t token) string {
	if t.kind == tQIdent {
		return strings.ReplaceAll(inner(t.text), `""`, `"`)
	}
	return t.text
}

func sameNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}
