package pgsql

import "strings"

// The lexer knows the lexical structure of Postgres SQL as applications
// send it, plus what SQLite adds: quoted strings ('…' with '' escapes,
// E'…' with backslash escapes), quoted identifiers ("…"), dollar quotes
// ($$…$$, $tag$…$tag$), $n placeholders, line comments (--) and nested block
// comments (/* */), numbers, and operators grouped as Postgres groups them.
// It never fails: an unterminated construct runs to the end of the input.

type tokKind uint8

const (
	tWord    tokKind = iota // unquoted identifier or keyword
	tQIdent                 // "quoted identifier"
	tString                 // 'string'
	tEString                // E'string'
	tDollar                 // $tag$string$tag$
	tNumber                 // 12, 1.5, 1e10
	tParam                  // $1
	tOp                     // operator: + - * / < > = ~ ! @ # % ^ & | ` ? and their runs, ::
	tPunct                  // ( ) [ ] , ; .
	tComment                // -- … or /* … */
)

type token struct {
	kind       tokKind
	start, end int32 // byte offsets in the input
}

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

func isOpChar(c byte) bool {
	switch c {
	case '+', '-', '*', '/', '<', '>', '=', '~', '!', '@', '#', '%', '^', '&', '|', '`', '?':
		return true
	}
	return false
}

// lex appends the tokens of s, comments included, to toks.
func lex(s string, toks []token) []token {
	pos := 0
	for {
		for pos < len(s) && isSpace(s[pos]) {
			pos++
		}
		if pos >= len(s) {
			return toks
		}
		start := pos
		c := s[start]
		kind := tOp
		switch {
		case c == '-' && start+1 < len(s) && s[start+1] == '-':
			kind = tComment
			if i := strings.IndexByte(s[start:], '\n'); i >= 0 {
				pos = start + i
			} else {
				pos = len(s)
			}
		case c == '/' && start+1 < len(s) && s[start+1] == '*':
			kind = tComment
			pos = blockCommentEnd(s, start)
		case c == '\'':
			kind = tString
			pos = quotedEnd(s, start+1, '\'', false)
		case c == '"':
			kind = tQIdent
			pos = quotedEnd(s, start+1, '"', false)
		case (c == 'E' || c == 'e') && start+1 < len(s) && s[start+1] == '\'':
			kind = tEString
			pos = quotedEnd(s, start+2, '\'', true)
		case isIdentStart(c):
			kind = tWord
			pos++
			for pos < len(s) && isIdentChar(s[pos]) {
				pos++
			}
		case isDigit(c) || (c == '.' && start+1 < len(s) && isDigit(s[start+1])):
			kind = tNumber
			pos = numberEnd(s, start)
		case c == '$':
			pos = start + 1
			if pos < len(s) && isDigit(s[pos]) {
				kind = tParam
				for pos < len(s) && isDigit(s[pos]) {
					pos++
				}
				break
			}
			j := pos
			if j < len(s) && s[j] != '$' {
				if !isIdentStart(s[j]) {
					break
				}
				for j < len(s) && isIdentChar(s[j]) && s[j] != '$' {
					j++
				}
			}
			if j >= len(s) || s[j] != '$' {
				// SQLite's $name parameter, or a lone '$'.
				if j > pos {
					kind = tParam
					pos = j
				}
				break
			}
			delim := s[start : j+1]
			kind = tDollar
			if i := strings.Index(s[j+1:], delim); i >= 0 {
				pos = j + 1 + i + len(delim)
			} else {
				pos = len(s)
			}
		case c == ':' && start+1 < len(s) && s[start+1] == ':':
			pos += 2
		case c == '(' || c == ')' || c == '[' || c == ']' || c == ',' || c == ';' || c == '.':
			kind = tPunct
			pos++
		case isOpChar(c):
			pos = opEnd(s, start)
		default:
			pos++
		}
		toks = append(toks, token{kind: kind, start: int32(start), end: int32(pos)})
	}
}

// opEnd returns the end of the operator starting at i, by Postgres' rule:
// a run of operator characters, cut before a comment start, and not ending
// in + or - unless it holds one of ~ ! @ # % ^ & | ` ? (so "=-1" is "=" "-" "1").
func opEnd(s string, i int) int {
	j := i
	for j < len(s) && isOpChar(s[j]) {
		if j > i && (s[j] == '-' && j+1 < len(s) && s[j+1] == '-' || s[j] == '*' && s[j-1] == '/') {
			break
		}
		if j+1 < len(s) && s[j] == '/' && s[j+1] == '*' && j > i {
			break
		}
		j++
	}
	if j-i > 1 && !strings.ContainsAny(s[i:j], "~!@#%^&|`?") {
		for j-i > 1 && (s[j-1] == '+' || s[j-1] == '-') {
			j--
		}
	}
	return j
}

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
	if i < len(s) && s[i] == '.' && !(i+1 < len(s) && s[i+1] == '.') {
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

// Piece is one statement of a query string.
type Piece struct {
	SQL    string // from its first to its last token; comments around it and ';' excluded
	Offset int    // byte offset of SQL in the query string
}

// Split splits a query string at the semicolons outside quotes, comments
// and the BEGIN … END body of a CREATE TRIGGER (SQLite's trigger syntax).
// Statements of only comments and white space are dropped.
func Split(q string) []Piece {
	var out []Piece
	var buf [64]token
	toks := lex(q, buf[:0])
	start, end := -1, -1
	nwords := 0
	var first, second string
	trigger, inBody := false, false
	caseDepth := 0
	flush := func() {
		if start >= 0 {
			out = append(out, Piece{SQL: q[start:end], Offset: start})
		}
		start, end, nwords = -1, -1, 0
		trigger, inBody, caseDepth = false, false, 0
	}
	for _, t := range toks {
		if t.kind == tComment {
			continue
		}
		if t.kind == tPunct && q[t.start] == ';' && !inBody {
			flush()
			continue
		}
		if start < 0 {
			start = int(t.start)
		}
		end = int(t.end)
		if t.kind != tWord {
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
