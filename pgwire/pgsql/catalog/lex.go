package catalog

import "strings"

// tokKind is the kind of a token of a Postgres statement.
type tokKind int

const (
	tIdent  tokKind = iota + 1 // a word: a name or a keyword
	tQIdent                    // "a quoted name"
	tString                    // 'a string', E'…' already decoded into a plain one
	tNumber
	tParam // $1
	tOp    // an operator or punctuation: ( ) , . :: [ ] ~ …
	tSpace // white space and comments, kept as they are
)

type token struct {
	kind tokKind
	text string
}

func (t token) is(word string) bool {
	return t.kind == tIdent && strings.EqualFold(t.text, word)
}

func (t token) isOp(op string) bool { return t.kind == tOp && t.text == op }

// lex splits a statement into tokens. It never fails: an unterminated
// quote takes the rest of the text, and SQLite reports the error.
func lex(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			for i < len(s) && strings.IndexByte(" \t\n\r\f", s[i]) >= 0 {
				i++
			}
			toks = append(toks, token{tSpace, s[start:i]})
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			toks = append(toks, token{tSpace, s[start:i]})
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			depth := 0
			for i < len(s) {
				if strings.HasPrefix(s[i:], "/*") {
					depth++
					i += 2
				} else if strings.HasPrefix(s[i:], "*/") {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
			toks = append(toks, token{tSpace, s[start:i]})
		case (c == 'E' || c == 'e') && i+1 < len(s) && s[i+1] == '\'':
			text, end := escapeString(s, i+1)
			i = end
			toks = append(toks, token{tString, text})
		case c == '\'':
			i = quoteEnd(s, i, '\'')
			toks = append(toks, token{tString, s[start:i]})
		case c == '"':
			i = quoteEnd(s, i, '"')
			toks = append(toks, token{tQIdent, s[start:i]})
		case c == '$' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			i++
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			toks = append(toks, token{tParam, s[start:i]})
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
				(s[i] == '+' || s[i] == '-') && (s[i-1] == 'e' || s[i-1] == 'E')) {
				i++
			}
			toks = append(toks, token{tNumber, s[start:i]})
		case isWordStart(c):
			for i < len(s) && isWordChar(s[i]) {
				i++
			}
			toks = append(toks, token{tIdent, s[start:i]})
		default:
			n := 1
			for _, op := range []string{"!~*", "::", "<>", "!=", ">=", "<=", "||", "!~", "~*", "->>", "->"} {
				if strings.HasPrefix(s[i:], op) {
					n = len(op)
					break
				}
			}
			i += n
			toks = append(toks, token{tOp, s[start:i]})
		}
	}
	return toks
}

func isWordStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isWordChar(c byte) bool { return isWordStart(c) || c >= '0' && c <= '9' || c == '$' }

// quoteEnd returns the offset after the quoted text starting at i, whose
// quote q is doubled inside it.
func quoteEnd(s string, i int, q byte) int {
	for i++; i < len(s); i++ {
		if s[i] == q {
			if i+1 < len(s) && s[i+1] == q {
				i++
				continue
			}
			return i + 1
		}
	}
	return len(s)
}

// escapeString decodes the E'…' string whose quote is at i into a plain
// SQL string literal, and returns the offset after it.
func escapeString(s string, i int) (string, int) {
	var b strings.Builder
	b.WriteByte('\'')
	for i++; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			b.WriteString("''")
			i++
		case c == '\'':
			b.WriteByte('\'')
			return b.String(), i + 1
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '\'':
				b.WriteString("''")
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String(), len(s)
}

// unquote is a name as Postgres folds it: a quoted one as written, any
// other in lower case.
func unquote(t token) string {
	if t.kind == tQIdent {
		return strings.ReplaceAll(inner(t.text), `""`, `"`)
	}
	return strings.ToLower(t.text)
}

// stringValue is the value of a string literal token.
func stringValue(t token) string {
	return strings.ReplaceAll(inner(t.text), "''", "'")
}

// inner is a quoted token without its quotes; an unterminated one (the
// rest of the statement) has only the first.
func inner(s string) string {
	if len(s) >= 2 && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s[1:]
}

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
