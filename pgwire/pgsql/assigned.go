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

// Assigned gives the values an INSERT … VALUES of one row, or an UPDATE …
// SET, gives to columns (named as the schema names them; compared ASCII
// case-insensitively), each a literal or a $n; an INSERT without a column
// list gives the table's columns, in order, tableColumns. ok is
// false when the statement gives one of them no such value (an
// expression, a DEFAULT, a column it does not set, several rows). The
// server reads it on the rare path of a constraint violation, to show the
// key as Postgres does (Key (email)=(a@b.c) already exists), so it is not
// worked out when the statement is parsed.
func (s *Statement) Assigned(columns, tableColumns []string) (vals []Value, ok bool) {
	if len(columns) == 0 || s.Verb != "INSERT" && s.Verb != "UPDATE" {
		return nil, false
	}
	r := newValueReader(s)
	i, ok := r.afterTable()
	if !ok {
		return nil, false
	}
	given := map[string]Value{}
	if s.Verb == "INSERT" {
		var cols []string
		switch {
		case r.word(i) == "VALUES":
			for _, c := range tableColumns {
				cols = append(cols, strings.ToLower(c))
			}
		case r.punct(i, '('):
			for i++; ; i += 2 {
				n, isName := r.name(i)
				if !isName {
					return nil, false
				}
				cols = append(cols, strings.ToLower(n))
				if r.punct(i+1, ')') {
					break
				}
				if !r.punct(i+1, ',') {
					return nil, false
				}
			}
			i += 2
		}
		if len(cols) == 0 {
			return nil, false
		}
		if r.word(i) != "VALUES" || !r.punct(i+1, '(') {
			return nil, false
		}
		i += 2
		for k := range cols {
			v, next, isValue := r.value(i)
			if !isValue || !(r.punct(next, ',') && k < len(cols)-1 || r.punct(next, ')') && k == len(cols)-1) {
				return nil, false
			}
			given[cols[k]] = v
			i = next + 1
		}
		if r.punct(i, ',') {
			return nil, false // several rows: which one is not known
		}
	} else {
		if r.word(i) != "SET" {
			return nil, false
		}
		ends := func(j int) bool {
			return j >= len(r.toks) || r.punct(j, ',') || r.word(j) == "WHERE" || r.word(j) == "FROM" || r.word(j) == "RETURNING"
		}
		for i++; ; {
			n, isName := r.name(i)
			if !isName || r.text(i+1) != "=" {
				return nil, false
			}
			v, next, isValue := r.value(i + 2)
			if isValue && ends(next) {
				given[strings.ToLower(n)] = v
			} else {
				// An expression: on to the next assignment.
				for d := 0; next < len(r.toks) && (d > 0 || !ends(next)); next++ {
					if r.punct(next, '(') {
						d++
					} else if r.punct(next, ')') {
						d--
					}
				}
			}
			if !r.punct(next, ',') {
				break
			}
			i = next + 1
		}
	}
	return pick(given, columns)
}

// Matched gives the values the WHERE clause of an UPDATE or DELETE holds
// columns to, when it is col = value [AND col = value …] (a column
// qualified or not, a literal or a $n): the key of the row a DELETE by
// primary key removes (Key (id)=(1) is still referenced from table
// "orders"). Like Assigned, it is for the path of a constraint violation.
func (s *Statement) Matched(columns []string) (vals []Value, ok bool) {
	if len(columns) == 0 || s.Verb != "UPDATE" && s.Verb != "DELETE" {
		return nil, false
	}
	r := newValueReader(s)
	i, ok := r.afterTable()
	if !ok {
		return nil, false
	}
	for depth := 0; i < len(r.toks) && (depth > 0 || r.word(i) != "WHERE"); i++ {
		if r.punct(i, '(') {
			depth++
		} else if r.punct(i, ')') {
			depth--
		}
	}
	given := map[string]Value{}
	for i++; i < len(r.toks); {
		n, isName := r.name(i)
		for isName && r.punct(i+1, '.') {
			i += 2
			n, isName = r.name(i)
		}
		if !isName || r.text(i+1) != "=" {
			return nil, false
		}
		v, next, isValue := r.value(i + 2)
		if !isValue {
			return nil, false
		}
		given[strings.ToLower(n)] = v
		switch r.word(next) {
		case "AND":
			i = next + 1
			continue
		case "RETURNING":
		default:
			if next < len(r.toks) {
				return nil, false
			}
		}
		break
	}
	return pick(given, columns)
}

// pick is the values of columns in given, by their names in lower case.
func pick(given map[string]Value, columns []string) ([]Value, bool) {
	vals := make([]Value, len(columns))
	for k, c := range columns {
		v, found := given[strings.ToLower(c)]
		if !found {
			return nil, false
		}
		vals[k] = v
	}
	return vals, true
}

// valueReader reads a statement's SQLite text for Assigned and Matched.
type valueReader struct {
	s    *Statement
	src  string
	toks []Token
}

func newValueReader(s *Statement) *valueReader {
	return &valueReader{s: s, src: s.SQL, toks: Tokens(s.SQL)}
}

func (r *valueReader) text(i int) string {
	if i < 0 || i >= len(r.toks) {
		return ""
	}
	return r.src[r.toks[i].Start:r.toks[i].End]
}

// word is token i upper-cased if it is a word, else "".
func (r *valueReader) word(i int) string {
	if i >= 0 && i < len(r.toks) && r.toks[i].Kind == TokWord {
		return strings.ToUpper(r.text(i))
	}
	return ""
}

func (r *valueReader) punct(i int, c byte) bool {
	return i >= 0 && i < len(r.toks) && r.toks[i].Kind == TokPunct && r.src[r.toks[i].Start] == c
}

func (r *valueReader) name(i int) (string, bool) {
	switch {
	case i < 0 || i >= len(r.toks):
	case r.toks[i].Kind == TokWord:
		return r.text(i), true
	case r.toks[i].Kind == TokQIdent:
		return unquoteIdent(r.text(i)), true
	}
	return "", false
}

// value reads a literal or $n at i; it returns the index after it.
func (r *valueReader) value(i int) (Value, int, bool) {
	neg := false
	if i < len(r.toks) && r.toks[i].Kind == TokOp && (r.text(i) == "-" || r.text(i) == "+") {
		neg = r.text(i) == "-"
		i++
	}
	if i >= len(r.toks) {
		return Value{}, i, false
	}
	switch r.toks[i].Kind {
	case TokNumber:
		v := r.text(i)
		if neg {
			v = "-" + v
		}
		return Value{Literal: v}, i + 1, true
	case TokString:
		if neg || !strings.HasPrefix(r.text(i), "'") {
			return Value{}, i, false
		}
		return Value{Literal: unquoteString(r.text(i))}, i + 1, true
	case TokParam:
		n, err := strconv.Atoi(strings.TrimPrefix(r.text(i), "$"))
		if neg || err != nil || n < 1 {
			return Value{}, i, false
		}
		return Value{Param: n}, i + 1, true
	case TokWord:
		switch r.word(i) {
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

// afterTable is the index of the token after the table the statement
// writes (and its alias): the verb at the top level, after WITH's common
// table expressions, then OR …, INTO, FROM, ONLY and the name.
func (r *valueReader) afterTable() (int, bool) {
	i, depth := 0, 0
	for ; i < len(r.toks); i++ {
		if r.punct(i, '(') {
			depth++
		} else if r.punct(i, ')') {
			depth--
		} else if depth == 0 && r.word(i) == r.s.Verb {
			break
		}
	}
	i++
	if r.word(i) == "OR" {
		i += 2
	}
	if w := r.word(i); w == "INTO" || w == "FROM" {
		i++
	}
	if r.word(i) == "ONLY" {
		i++
	}
	if _, isName := r.name(i); !isName {
		return 0, false
	}
	for i++; r.punct(i, '.'); i += 2 {
	}
	switch w := r.word(i); {
	case w == "AS":
		i += 2
	case r.s.Verb != "INSERT" && w != "SET" && w != "WHERE" && w != "RETURNING" && w != "USING" && i < len(r.toks):
		i++ // an alias
	}
	return i, true
}
