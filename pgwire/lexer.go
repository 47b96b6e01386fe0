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

// statement is one statement of a query string.
type statement struct {
	sql    string // from its first to its last token, comments around it and ';' excluded
	offset int    // byte offset of sql in the query string
}

// splitStatements splits a query string at the semicolons that are outside
// quotes, comments and the BEGIN … END body of a CREATE TRIGGER (SQLite's
// trigger syntax). Statements made only of comments and whitespace are
// dropped, so a query of only comments yields none.
func splitStatements(q string) []statement {
	var out []statement
	l := newLexer(q)
	start, end := -1, -1
	nwords := 0
	var first, second string
	trigger, inBody := false, false
	caseDepth := 0
	flush := func() {
		if start >= 0 {
			out = append(out, statement{sql: q[start:end], offset: start})
		}
		start, end, nwords = -1, -1, 0
		trigger, inBody, caseDepth = false, false, 0
	}
	for {
		t, ok := l.next()
		if !ok {
			break
		}
		if t.kind == tkComment {
			continue
		}
		if t.kind == tkPunct && q[t.start] == ';' && !inBody {
			flush()
			continue
		}
		if start < 0 {
			start = t.start
		}
		end = t.end
		if t.kind != tkWord {
			continue
		}
		w := q[t.start:t.end]
		nwords++
		switch nwords {
		case 1:
			first = w
		case 2:
			second = w
			trigger = strings.EqualFold(first, "create") && strings.EqualFold(w, "trigger")
		case 3:
			if !trigger && strings.EqualFold(first, "create") &&
				(strings.EqualFold(second, "temp") || strings.EqualFold(second, "temporary")) {
				trigger = strings.EqualFold(w, "trigger")
			}
		}
		if !trigger {
			continue
		}
		switch {
		case !inBody && strings.EqualFold(w, "begin"):
			inBody = true
		case inBody && strings.EqualFold(w, "case"):
			caseDepth++
		case inBody && strings.EqualFold(w, "end"):
			if caseDepth > 0 {
				caseDepth--
			} else {
				inBody = false
			}
		}
	}
	flush()
	return out
}

// maxParams is the largest $n a statement may use (Postgres' limit).
const maxParams = 65535

// countParams returns the highest $n placeholder in sql (0 if none), or -1 if
// one is beyond maxParams.
func countParams(sql string) int {
	l := newLexer(sql)
	n := 0
	for {
		t, ok := l.next()
		if !ok {
			return n
		}
		if t.kind != tkParam {
			continue
		}
		digits := sql[t.start+1 : t.end]
		if len(digits) > 6 {
			return -1
		}
		v := 0
		for i := 0; i < len(digits); i++ {
			v = v*10 + int(digits[i]-'0')
		}
		if v > maxParams {
			return -1
		}
		n = max(n, v)
	}
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

// mainVerb returns the upper-cased keyword that decides what sql does: its
// first keyword, or for WITH … the keyword of the statement after the common
// table expressions.
func mainVerb(sql string) string {
	l := newLexer(sql)
	var t token
	var ok bool
	for {
		t, ok = l.nextSignificant()
		if !ok {
			return ""
		}
		if !(t.kind == tkPunct && sql[t.start] == '(') {
			break
		}
	}
	if t.kind != tkWord {
		return ""
	}
	w := strings.ToUpper(sql[t.start:t.end])
	if w != "WITH" {
		return w
	}
	depth := 0
	afterParen := false
	for {
		t, ok = l.nextSignificant()
		if !ok {
			return "SELECT"
		}
		switch {
		case t.kind == tkPunct && sql[t.start] == '(':
			depth++
			afterParen = false
		case t.kind == tkPunct && sql[t.start] == ')':
			depth--
			afterParen = depth == 0
		case t.kind == tkWord && depth == 0 && afterParen:
			switch v := strings.ToUpper(sql[t.start:t.end]); v {
			case "SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "VALUES", "MERGE", "TABLE":
				return v
			}
			afterParen = false
		default:
			afterParen = false
		}
	}
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
