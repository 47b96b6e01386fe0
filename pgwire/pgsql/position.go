package pgsql

import "strings"

// Locate returns the 1-based character position in Source of the first
// token that reads as text (a keyword or name in any case, a quoted name
// by its content, an operator or punctuation as written), or 0: where to
// point an error SQLite reports by naming the token ("near "x": syntax
// error", "no such column: x"), which has no position of its own.
func (s *Statement) Locate(text string) int {
	if text == "" {
		return 0
	}
	var buf [64]token
	for _, t := range lex(s.Source, buf[:0]) {
		tok := s.Source[t.start:t.end]
		switch t.kind {
		case tComment:
			continue
		case tQIdent:
			if identName(tok) == text {
				return charPos(s.Source, int(t.start))
			}
			continue
		}
		if strings.EqualFold(tok, text) {
			return charPos(s.Source, int(t.start))
		}
	}
	return 0
}

// ReplaceCalls returns src with each call of the function name (in any
// case, optionally pg_catalog-qualified) whose arguments are all string or
// boolean literals replaced by the SQL repl returns for their values, and
// whether it replaced any. It is for the functions whose value is the
// session's (current_setting), which a SQLite function cannot see.
func ReplaceCalls(src, name string, repl func(args []string) (string, error)) (string, bool, error) {
	var buf [64]token
	all := lex(src, buf[:0])
	toks := all[:0]
	for _, t := range all {
		if t.kind != tComment {
			toks = append(toks, t)
		}
	}
	text := func(i int) string {
		if i < 0 || i >= len(toks) {
			return ""
		}
		return src[toks[i].start:toks[i].end]
	}
	var b strings.Builder
	last, replaced := 0, false
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tWord || !strings.EqualFold(text(i), name) || text(i+1) != "(" || text(i-1) == "." && !strings.EqualFold(text(i-2), "pg_catalog") {
			continue
		}
		var args []string
		j := i + 2
		ok := true
		for ; j < len(toks); j++ {
			t := toks[j]
			switch {
			case t.kind == tString:
				args = append(args, strings.ReplaceAll(text(j)[1:len(text(j))-1], "''", "'"))
			case t.kind == tWord && (strings.EqualFold(text(j), "true") || strings.EqualFold(text(j), "false")):
				args = append(args, strings.ToLower(text(j)))
			default:
				ok = false
			}
			if !ok {
				break
			}
			j++
			if text(j) == ")" {
				break
			}
			if text(j) != "," {
				ok = false
				break
			}
		}
		if !ok || j >= len(toks) || len(args) == 0 {
			continue
		}
		v, err := repl(args)
		if err != nil {
			return "", false, err
		}
		from := int(toks[i].start)
		if text(i-1) == "." {
			from = int(toks[i-2].start)
		}
		b.WriteString(src[last:from])
		b.WriteString(v)
		last = int(toks[j].end)
		replaced = true
		i = j
	}
	if !replaced {
		return src, false, nil
	}
	b.WriteString(src[last:])
	return b.String(), true, nil
}
