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
