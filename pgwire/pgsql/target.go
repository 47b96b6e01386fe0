package pgsql

import "strings"

// Target is the table an INSERT, UPDATE or DELETE (REPLACE, and the
// statement after WITH …) writes, as its SQLite text names it, without a
// schema; "" for other statements. The server reads it on the rare path
// of a constraint violation, to name the constraint, so it is not worked
// out when the statement is parsed.
func (s *Statement) Target() string {
	switch s.Verb {
	case "INSERT", "REPLACE", "UPDATE", "DELETE":
	default:
		return ""
	}
	src := s.SQL
	toks := Tokens(src)
	word := func(i int) string {
		if i < len(toks) && toks[i].Kind == TokWord {
			return strings.ToUpper(src[toks[i].Start:toks[i].End])
		}
		return ""
	}
	// The verb's keyword at the top level: after WITH's common table
	// expressions, which are in parentheses.
	i, depth := 0, 0
	for ; i < len(toks); i++ {
		if toks[i].Kind == TokPunct {
			switch src[toks[i].Start] {
			case '(':
				depth++
			case ')':
				depth--
			}
			continue
		}
		if depth == 0 && word(i) == s.Verb {
			break
		}
	}
	i++
	if word(i) == "OR" { // INSERT OR REPLACE, UPDATE OR IGNORE …
		i += 2
	}
	switch word(i) {
	case "INTO", "FROM":
		i++
	}
	if word(i) == "ONLY" {
		i++
	}
	name := ""
	for ; i < len(toks); i++ {
		switch t := toks[i]; {
		case t.Kind == TokWord || t.Kind == TokQIdent:
			name = src[t.Start:t.End]
			if t.Kind == TokQIdent {
				name = unquoteIdent(name)
			}
			if i+1 < len(toks) && toks[i+1].Kind == TokPunct && src[toks[i+1].Start] == '.' {
				i++ // schema.table
				continue
			}
			return name
		default:
			return ""
		}
	}
	return name
}
