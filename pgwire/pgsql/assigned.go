package pgsql

import (
	"strconv"
	"strings"
)

// Value is what a statement gives a column: a literal, NULL, or the value
// of a parameter.
type Value struct {
	Param   int    // n of the $n that gives it; 0 for a literal
	Literal string // the literal's value as Postgres shows it (a string's text, a number)
	Null    bool
}

// Assigned gives the values an INSERT … VALUES of one row with a column
// list, or an UPDATE … SET, gives to columns (named as the schema names
// them; compared ASCII case-insensitively), each a literal or a $n; ok is
// false when the statement gives one of them no such value (an
// expression, a DEFAULT, a column it does not set, several rows). The
// server reads it on the rare path of a constraint violation, to show the
// key as Postgres does (Key (email)=(a@b.c) already exists), so it is not
// worked out when the statement is parsed.
func (s *Statement) Assigned(columns []string) (vals []Value, ok bool) {
	if len(columns) == 0 || s.Verb != "INSERT" && s.Verb != "UPDATE" {
		return nil, false
	}
	src := s.SQL
	toks := Tokens(src)
	text := func(i int) string {
		if i < 0 || i >= len(toks) {
			return ""
		}
		return src[toks[i].Start:toks[i].End]
	}
	word := func(i int) string {
		if i < len(toks) && toks[i].Kind == TokWord {
			return strings.ToUpper(text(i))
		}
		return ""
	}
	punct := func(i int, c byte) bool {
		return i < len(toks) && toks[i].Kind == TokPunct && src[toks[i].Start] == c
	}
	name := func(i int) (string, bool) {
		switch {
		case i >= len(toks):
		case toks[i].Kind == TokWord:
			return text(i), true
		case toks[i].Kind == TokQIdent:
			return unquoteIdent(text(i)), true
		}
		return "", false
	}
	// value reads a literal or $n at i; it returns the index after it.
	value := func(i int) (Value, int, bool) {
		neg := false
		if i < len(toks) && toks[i].Kind == TokOp && (text(i) == "-" || text(i) == "+") {
			neg = text(i) == "-"
			i++
		}
		if i >= len(toks) {
			return Value{}, i, false
		}
		switch toks[i].Kind {
		case TokNumber:
			v := text(i)
			if neg {
				v = "-" + v
			}
			return Value{Literal: v}, i + 1, true
		case TokString:
			if neg || !strings.HasPrefix(text(i), "'") {
				return Value{}, i, false
			}
			return Value{Literal: unquoteString(text(i))}, i + 1, true
		case TokParam:
			n, err := strconv.Atoi(strings.TrimPrefix(text(i), "$"))
			if neg || err != nil || n < 1 {
				return Value{}, i, false
			}
			return Value{Param: n}, i + 1, true
		case TokWord:
			switch word(i) {
			case "NULL":
				return Value{Null: true}, i + 1, !neg
			case "TRUE":
				return Value{Literal: "t"}, i + 1, !neg
			case "FALSE":
				return Value{Literal: "f"}, i + 1, !neg
			}
		}
		return Value{}, i, false
	}
	// The verb at the top level, after WITH's common table expressions.
	i, depth := 0, 0
	for ; i < len(toks); i++ {
		if punct(i, '(') {
			depth++
		} else if punct(i, ')') {
			depth--
		} else if depth == 0 && word(i) == s.Verb {
			break
		}
	}
	i++
	if word(i) == "OR" {
		i += 2
	}
	if word(i) == "INTO" || word(i) == "ONLY" {
		i++
	}
	if _, isName := name(i); !isName {
		return nil, false
	}
	for i++; punct(i, '.'); i += 2 {
	}
	if word(i) == "AS" {
		i += 2
	} else if s.Verb == "UPDATE" && word(i) != "SET" {
		i++ // an alias
	}
	given := map[string]Value{}
	if s.Verb == "INSERT" {
		var cols []string
		if !punct(i, '(') {
			return nil, false
		}
		for i++; ; i += 2 {
			n, isName := name(i)
			if !isName {
				return nil, false
			}
			cols = append(cols, strings.ToLower(n))
			if punct(i+1, ')') {
				break
			}
			if !punct(i+1, ',') {
				return nil, false
			}
		}
		i += 2
		if word(i) != "VALUES" || !punct(i+1, '(') {
			return nil, false
		}
		i += 2
		for k := range cols {
			v, next, isValue := value(i)
			if !isValue || !(punct(next, ',') && k < len(cols)-1 || punct(next, ')') && k == len(cols)-1) {
				return nil, false
			}
			given[cols[k]] = v
			i = next + 1
		}
		if punct(i, ',') {
			return nil, false // several rows: which one is not known
		}
	} else {
		if word(i) != "SET" {
			return nil, false
		}
		for i++; ; {
			n, isName := name(i)
			if !isName || i+1 >= len(toks) || text(i+1) != "=" {
				return nil, false
			}
			v, next, isValue := value(i + 2)
			if isValue && (next >= len(toks) || punct(next, ',') || word(next) == "WHERE" || word(next) == "FROM" || word(next) == "RETURNING") {
				given[strings.ToLower(n)] = v
			} else {
				// An expression: skip to the next assignment.
				for d := 0; next < len(toks) && (d > 0 || !punct(next, ',') && word(next) != "WHERE" && word(next) != "FROM" && word(next) != "RETURNING"); next++ {
					if punct(next, '(') {
						d++
					} else if punct(next, ')') {
						d--
					}
				}
			}
			if !punct(next, ',') {
				break
			}
			i = next + 1
		}
	}
	vals = make([]Value, len(columns))
	for k, c := range columns {
		v, found := given[strings.ToLower(c)]
		if !found {
			return nil, false
		}
		vals[k] = v
	}
	return vals, true
}
