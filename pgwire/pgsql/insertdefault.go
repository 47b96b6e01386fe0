package pgsql

import (
	"sort"
	"strings"
)

// A multi-row INSERT … VALUES that gives DEFAULT for a column in some rows
// and values in others (TypeORM's save of several entities, one with a
// field set) has no SQLite form the front end can write alone: SQLite has
// no DEFAULT item, and leaving the column out is only right when every row
// leaves it out. The statement is refused (0A000) with the DEFAULT items
// noted, and a caller that knows the table's column defaults (pgwire, from
// pragma_table_info) puts each default expression in place of its DEFAULT
// with WithDefaults, or NULL for a column without one (a serial: SQLite
// numbers a NULL rowid alias, its trigger any other), and parses that.

type defaultItem struct {
	start, end int    // byte offsets of the DEFAULT word in Source
	column     string // the column it fills, as SQLite names it
}

// noteMixedDefaults notes the DEFAULT items of the columns that some rows
// give DEFAULT and others a value, in an INSERT with a column list.
func (p *parser) noteMixedDefaults(tableFrom, tableTo int, cols [][2]int, rows [][][2]int, isDefault func([2]int) bool) {
	if len(rows) < 2 || len(cols) != len(rows[0]) || tableTo >= len(p.toks) {
		return
	}
	n := len(cols)
	defaults := make([]int, n)
	for _, items := range rows {
		if len(items) != n {
			return
		}
		for k, it := range items {
			if isDefault(it) {
				defaults[k]++
			}
		}
	}
	var out []defaultItem
	for k := 0; k < n; k++ {
		if defaults[k] == 0 || defaults[k] == len(rows) {
			continue
		}
		name := p.text(cols[k][0])
		if p.kindAt(cols[k][0]) == tQIdent {
			name = strings.ReplaceAll(name[1:len(name)-1], `""`, `"`)
		}
		for _, items := range rows {
			if it := items[k]; isDefault(it) {
				out = append(out, defaultItem{start: int(p.toks[it[0]].start), end: int(p.toks[it[0]].end), column: name})
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].start < out[b].start })
	r := p.st.rareParts()
	r.defaults = out
	r.defaultsTable = p.src[p.toks[tableFrom].start:p.toks[tableTo].end]
}

// DefaultsWanted reports the table, as written, and the columns whose
// defaults WithDefaults needs, for an INSERT the front end refused because
// some rows give DEFAULT for them and others values.
func (s *Statement) DefaultsWanted() (table string, columns []string, ok bool) {
	if s.rare == nil || len(s.rare.defaults) == 0 || s.Err == nil {
		return "", nil, false
	}
	table = s.rare.defaultsTable
	seen := map[string]bool{}
	for _, d := range s.rare.defaults {
		if k := strings.ToLower(d.column); !seen[k] {
			seen[k] = true
			columns = append(columns, d.column)
		}
	}
	return table, columns, true
}

// WithDefaults returns Source with each DEFAULT item DefaultsWanted named
// replaced by its column's default expression in SQLite's text, from
// exprs by the column's name in lower case, or by NULL for a column that
// has none.
func (s *Statement) WithDefaults(exprs map[string]string) string {
	var b strings.Builder
	at := 0
	if s.rare == nil {
		return s.Source
	}
	for _, d := range s.rare.defaults {
		b.WriteString(s.Source[at:d.start])
		if e, ok := exprs[strings.ToLower(d.column)]; ok && e != "" {
			b.WriteString("(" + e + ")")
		} else {
			b.WriteString("NULL")
		}
		at = d.end
	}
	b.WriteString(s.Source[at:])
	return b.String()
}
