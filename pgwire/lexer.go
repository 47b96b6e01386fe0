package pgwire

import (
	"strings"
)

// This file holds a small Postgres-aware lexer. It knows just enough of the
// lexical structure of SQL to split a query string into statements, count $n
// placeholders and read the leading keywords of a statement: quoted strings
// ('…' with '' escapes, E'…' with backslash escapes), quoted identifiers
// ("…"), dollar quotes ($$…$$, $tag$…$tag$), line comments (--) and nested
// block comments (/* */). It never fails: unterminated constructs run to the
// end of the input.

type tokKind uint8

const (
	tkWord    tokKind = iota // unquoted identifier or keyword
	tkQIdent                 // "quoted identifier"
	tkString                 // 'string', E'string'
	tkDollar                 // $tag$string$tag$
	tkNumber                 // 12, 1.5, 1e10
	tkParam                  // $1
	tkOp                     // one operator character, or ::
	tkPunct                  // ( ) [ ] , ;
	tkComment                // -- … or /* … */
)

type token struct {
	kind       tokKind
	start, end int // byte offsets in the lexer's input
}

type lexer struct {
	s   string
	pos int
}

func newLexer(s string) *lexer { return &lexer{s: s} }

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// next returns the next token, comments included; ok is false at the end.
func (l *lexer) next() (t token, ok bool) {
	s := l.s
	for l.pos < len(s) && isSpace(s[l.pos]) {
		l.pos++
	}
	if l.pos >= len(s) {
		return token{}, false
	}
	start := l.pos
	c := s[start]
	kind := tkOp
	switch {
	case c == '-' && start+1 < len(s) && s[start+1] == '-':
		kind = tkComment
		if i := strings.IndexByte(s[start:], '\n'); i >= 0 {
			l.pos = start + i
		} else {
			l.pos = len(s)
		}
	case c == '/' && start+1 < len(s) && s[start+1] == '*':
		kind = tkComment
		l.pos = blockCommentEnd(s, start)
	case c == '\'':
		kind = tkString
		l.pos = quotedEnd(s, start+1, '\'', false)
	case c == '"':
		kind = tkQIdent
		l.pos = quotedEnd(s, start+1, '"', false)
	case (c == 'E' || c == 'e') && start+1 < len(s) && s[start+1] == '\'':
		kind = tkString
		l.pos = quotedEnd(s, start+2, '\'', true)
	case isIdentStart(c):
		kind = tkWord
		l.pos++
		for l.pos < len(s) && isIdentChar(s[l.pos]) {
			l.pos++
		}
	case isDigit(c) || (c == '.' && start+1 < len(s) && isDigit(s[start+1])):
		kind = tkNumber
		l.pos = numberEnd(s, start)
	case c == '$':
		l.pos = start + 1
		if l.pos < len(s) && isDigit(s[l.pos]) {
			kind = tkParam
			for l.pos < len(s) && isDigit(s[l.pos]) {
				l.pos++
			}
			break
		}
		// A dollar quote: $tag$ where tag is empty or an identifier
		// without $.
		j := l.pos
		if j < len(s) && s[j] != '$' {
			if !isIdentStart(s[j]) {
				break
			}
			for j < len(s) && isIdentChar(s[j]) && s[j] != '$' {
				j++
			}
		}
		if j >= len(s) || s[j] != '$' {
			break // a lone '$': an operator character
		}
		delim := s[start : j+1]
		kind = tkDollar
		if i := strings.Index(s[j+1:], delim); i >= 0 {
			l.pos = j + 1 + i + len(delim)
		} else {
			l.pos = len(s)
		}
	case c == '(' || c == ')' || c == '[' || c == ']' || c == ',' || c == ';':
		kind = tkPunct
		l.pos++
	case c == ':' && start+1 < len(s) && s[start+1] == ':':
		l.pos += 2
	default:
		l.pos++
	}
	return token{kind: kind, start: start, end: l.pos}, true
}

// nextSignificant is next without comments.
func (l *lexer) nextSignificant() (token, bool) {
	for {
		t, ok := l.next()
		if !ok || t.kind != tkComment {
			return t, ok
		}
	}
}

// quotedEnd returns the offset just after the closing quote of a quoted
// construct whose body starts at i. A doubled quote is an escaped quote;
// with backslashes, \x escapes any byte.
func quotedEnd(s string, i int, q byte, backslashes bool) int {
	for i < len(s) {
		c := s[i]
		switch {
		case backslashes && c == '\\':
			i += 2
		case c == q:
			if i+1 < len(s) && s[i+1] == q {
				i += 2
				continue
			}
			return i + 1
		default:
			i++
		}
	}
	return len(s)
}

// blockCommentEnd returns the offset just after the block comment that starts
// at i. Block comments nest.
func blockCommentEnd(s string, i int) int {
	depth := 0
	for i < len(s) {
		if s[i] == '/' && i+1 < len(s) && s[i+1] == '*' {
			depth++
			i += 2
			continue
		}
		if s[i] == '*' && i+1 < len(s) && s[i+1] == '/' {
			depth--
			i += 2
			if depth == 0 {
				return i
			}
			continue
		}
		i++
	}
	return len(s)
}

func numberEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			i = j
		}
	}
	return i
}

// leadingWords returns up to n leading keywords of sql, upper-cased, skipping
// comments and opening parentheses. It stops at the first token that is not
// an unquoted word.
func leadingWords(sql string, n int) []string {
	l := newLexer(sql)
	var out []string
	for len(out) < n {
		t, ok := l.nextSignificant()
		if !ok {
			break
		}
		if t.kind == tkPunct && sql[t.start] == '(' && len(out) == 0 {
			continue
		}
		if t.kind != tkWord {
			break
		}
		out = append(out, strings.ToUpper(sql[t.start:t.end]))
	}
	return out
}

// tokenList is a statement's significant tokens (no comments, no ';'), for
// the statements pgwire reads past their first keyword (COPY, DDL).
type tokenList struct {
	sql  string
	toks []token
}

func lexStatement(sql string) tokenList {
	l := newLexer(sql)
	var toks []token
	for {
		t, ok := l.nextSignificant()
		if !ok {
			break
		}
		if t.kind == tkPunct && sql[t.start:t.end] == ";" {
			continue
		}
		toks = append(toks, t)
	}
	return tokenList{sql: sql, toks: toks}
}

// word is token i lower-cased if it is an unquoted word, else "".
func (tl tokenList) word(i int) string {
	if i < len(tl.toks) && tl.toks[i].kind == tkWord {
		return strings.ToLower(tl.sql[tl.toks[i].start:tl.toks[i].end])
	}
	return ""
}

// text is token i as written.
func (tl tokenList) text(i int) string { return tl.sql[tl.toks[i].start:tl.toks[i].end] }

// firstWord is the first keyword of sql, lower-cased, or "" when sql does
// not start with an unquoted word.
func firstWord(sql string) string {
	t, ok := newLexer(sql).nextSignificant()
	if !ok || t.kind != tkWord {
		return ""
	}
	return strings.ToLower(sql[t.start:t.end])
}
