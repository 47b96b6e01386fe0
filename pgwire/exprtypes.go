package pgwire

import (
	"strconv"
	"strings"
)

// exprTypes guesses the types of the result columns of a SELECT from its
// select list, for columns that have no declared type when they are
// described before running: integer literals are int4, other number literals
// float8, strings text, TRUE/FALSE bool, count(…) int8, and x::type or
// CAST(x AS type) the named type. It returns nil when it cannot match the
// select list to the columns (SELECT *), and 0 for a column it cannot type.
func exprTypes(sql string, ncols int) []uint32 {
	if mainVerb(sql) != "SELECT" {
		return nil
	}
	l := newLexer(sql)
	// Find the top-level SELECT (after any WITH clause).
	depth := 0
	found := false
	for !found {
		t, ok := l.nextSignificant()
		if !ok {
			return nil
		}
		switch {
		case t.kind == tkPunct && sql[t.start] == '(':
			depth++
		case t.kind == tkPunct && sql[t.start] == ')':
			depth--
		case t.kind == tkWord && depth <= 0 && strings.EqualFold(sql[t.start:t.end], "select"):
			found = true
		}
	}
	var items [][]token
	var cur []token
	depth = 0
loop:
	for {
		t, ok := l.nextSignificant()
		if !ok {
			break
		}
		if depth == 0 && t.kind == tkWord {
			switch strings.ToUpper(sql[t.start:t.end]) {
			case "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "UNION", "INTERSECT", "EXCEPT", "WINDOW", "INTO", "FETCH", "FOR":
				break loop
			case "DISTINCT", "ALL":
				if len(items) == 0 && len(cur) == 0 {
					continue
				}
			}
		}
		if t.kind == tkPunct {
			switch sql[t.start] {
			case '(', '[':
				depth++
			case ')', ']':
				depth--
			case ',':
				if depth == 0 {
					items = append(items, cur)
					cur = nil
					continue
				}
			}
		}
		cur = append(cur, t)
		if len(cur) > 256 {
			return nil
		}
	}
	items = append(items, cur)
	if len(items) != ncols {
		return nil
	}
	out := make([]uint32, ncols)
	for i, it := range items {
		out[i] = itemType(sql, stripAlias(sql, it))
	}
	return out
}

// stripAlias drops a trailing "AS alias" or bare alias.
func stripAlias(sql string, it []token) []token {
	n := len(it)
	if n >= 3 && it[n-2].kind == tkWord && strings.EqualFold(sql[it[n-2].start:it[n-2].end], "as") {
		return it[:n-2]
	}
	if n >= 2 && (it[n-1].kind == tkWord || it[n-1].kind == tkQIdent) {
		prev := it[n-2]
		if prev.kind == tkPunct && sql[prev.start] == ')' || prev.kind == tkNumber || prev.kind == tkString || prev.kind == tkQIdent {
			return it[:n-1]
		}
		if prev.kind == tkWord && !strings.EqualFold(sql[prev.start:prev.end], "is") && !strings.EqualFold(sql[prev.start:prev.end], "not") {
			// "col alias": but "x::double precision" has two words too.
			if !(n >= 3 && it[n-3].kind == tkOp && sql[it[n-3].start:it[n-3].end] == "::") {
				return it[:n-1]
			}
		}
	}
	return it
}

func itemType(sql string, it []token) uint32 {
	if len(it) == 0 {
		return oidUnknown
	}
	text := func(t token) string { return sql[t.start:t.end] }
	// x::type at top level: the last cast wins.
	depth := 0
	lastCast := -1
	for i, t := range it {
		switch {
		case t.kind == tkPunct && (sql[t.start] == '(' || sql[t.start] == '['):
			depth++
		case t.kind == tkPunct && (sql[t.start] == ')' || sql[t.start] == ']'):
			depth--
		case t.kind == tkOp && depth == 0 && text(t) == "::":
			lastCast = i
		}
	}
	if lastCast >= 0 && lastCast+1 < len(it) {
		var b strings.Builder
		for _, t := range it[lastCast+1:] {
			if t.kind == tkPunct && sql[t.start] == '(' {
				break
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(text(t))
		}
		return declOID(b.String())
	}
	first := it[0]
	if len(it) == 2 && first.kind == tkOp && (text(first) == "-" || text(first) == "+") {
		first = it[1]
		it = it[1:]
	}
	if len(it) == 1 {
		switch first.kind {
		case tkNumber:
			s := text(first)
			if strings.ContainsAny(s, ".eE") {
				return oidFloat8
			}
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n <= 1<<31-1 {
				return oidInt4
			}
			return oidInt8
		case tkString:
			return oidText
		case tkWord:
			switch strings.ToUpper(text(first)) {
			case "TRUE", "FALSE":
				return oidBool
			}
		}
		return oidUnknown
	}
	if first.kind == tkWord && len(it) >= 3 && it[1].kind == tkPunct && sql[it[1].start] == '(' {
		name := strings.ToUpper(text(first))
		if oid, ok := functionOIDs[name]; ok {
			if it[len(it)-1].kind == tkPunct && sql[it[len(it)-1].start] == ')' {
				return oid
			}
		}
		switch name {
		case "CAST":
			// CAST(x AS type): the words after the last top-level AS.
			d := 0
			as := -1
			for i, t := range it[1:] {
				switch {
				case t.kind == tkPunct && sql[t.start] == '(':
					d++
				case t.kind == tkPunct && sql[t.start] == ')':
					d--
				case t.kind == tkWord && d == 1 && strings.EqualFold(text(t), "as"):
					as = i + 1
				}
			}
			if as > 0 {
				var b strings.Builder
				for _, t := range it[as+1:] {
					if t.kind != tkWord {
						break
					}
					if b.Len() > 0 {
						b.WriteByte(' ')
					}
					b.WriteString(text(t))
				}
				return declOID(b.String())
			}
		}
	}
	return oidUnknown
}

// inferParamTypes fills the unknown (0) entries of oids for placeholders
// that the statement casts, $n::type or CAST($n AS type), as Postgres
// infers them; the client then sends those values in their own type.
func inferParamTypes(sql string, oids []uint32) {
	l := newLexer(sql)
	var toks []token
	for {
		t, ok := l.nextSignificant()
		if !ok {
			break
		}
		toks = append(toks, t)
	}
	text := func(i int) string { return sql[toks[i].start:toks[i].end] }
	typeAt := func(i int) uint32 {
		// One or two words: "int8", "double precision".
		if i >= len(toks) || toks[i].kind != tkWord {
			return oidUnknown
		}
		if i+1 < len(toks) && toks[i+1].kind == tkWord {
			if oid := declOID(text(i) + " " + text(i+1)); oid != oidUnknown {
				return oid
			}
		}
		return declOID(text(i))
	}
	for i, t := range toks {
		if t.kind != tkParam {
			continue
		}
		n := 0
		for _, d := range sql[t.start+1 : t.end] {
			n = n*10 + int(d-'0')
			if n > len(oids) {
				break
			}
		}
		if n < 1 || n > len(oids) || oids[n-1] != oidUnknown {
			continue
		}
		var oid uint32
		switch {
		case i+1 < len(toks) && toks[i+1].kind == tkOp && text(i+1) == "::":
			oid = typeAt(i + 2)
		case i >= 2 && i+1 < len(toks) && toks[i-1].kind == tkPunct && text(i-1) == "(" &&
			toks[i-2].kind == tkWord && strings.EqualFold(text(i-2), "cast") &&
			toks[i+1].kind == tkWord && strings.EqualFold(text(i+1), "as"):
			oid = typeAt(i + 2)
		}
		oids[n-1] = oid
	}
}

// functionOIDs types a column that is one call of these functions, by what
// SQLite returns for them. Integers are int8 since SQLite's are 64-bit; sum()
// is numeric because SQLite returns an integer or a float depending on its
// input, and numeric holds both.
var functionOIDs = map[string]uint32{
	"COUNT": oidInt8, "LENGTH": oidInt8, "OCTET_LENGTH": oidInt8, "CHAR_LENGTH": oidInt8,
	"INSTR": oidInt8, "UNICODE": oidInt8, "CHANGES": oidInt8, "LAST_INSERT_ROWID": oidInt8,
	"RANDOM": oidInt8, "UNIXEPOCH": oidInt8,
	"AVG": oidFloat8, "TOTAL": oidFloat8, "JULIANDAY": oidFloat8,
	"SUM":   oidNumeric,
	"UPPER": oidText, "LOWER": oidText, "SUBSTR": oidText, "SUBSTRING": oidText, "TRIM": oidText,
	"LTRIM": oidText, "RTRIM": oidText, "REPLACE": oidText, "HEX": oidText, "QUOTE": oidText,
	"TYPEOF": oidText, "PRINTF": oidText, "FORMAT": oidText, "GROUP_CONCAT": oidText,
	"STRING_AGG": oidText, "DATE": oidText, "TIME": oidText, "DATETIME": oidText,
	"STRFTIME": oidText, "CONCAT": oidText, "CONCAT_WS": oidText, "CHAR": oidText,
	"SQLITE_VERSION": oidText,
}
