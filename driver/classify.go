package driver

import (
	"strings"
)

// kind is what a statement does, as far as routing and retries care.
type kind uint8

const (
	kindRead     kind = iota // SELECT, VALUES, SHOW, EXPLAIN: safe to resend
	kindWrite                // anything that may change the database
	kindBegin                // BEGIN, START TRANSACTION
	kindCommit               // COMMIT, END
	kindRollback             // ROLLBACK, ABORT (not ROLLBACK TO)
	kindSession              // SET, RESET, DISCARD: session settings
	kindTxOther              // SAVEPOINT, RELEASE, ROLLBACK TO: only inside transactions
)

// classify looks at the first keyword of sql. It errs towards kindWrite:
// a read taken for a write only costs a request id and the trip to the
// leader, while a write taken for a read could be resent.
func classify(sql string) kind {
	words := leadingWords(sql, 3)
	if len(words) == 0 {
		return kindRead
	}
	switch words[0] {
	case "SELECT", "VALUES", "SHOW", "EXPLAIN", "TABLE":
		return kindRead
	case "WITH":
		for _, w := range allWords(sql) {
			switch w {
			case "INSERT", "UPDATE", "DELETE", "REPLACE":
				return kindWrite
			}
		}
		return kindRead
	case "BEGIN", "START":
		return kindBegin
	case "COMMIT", "END":
		return kindCommit
	case "ROLLBACK", "ABORT":
		if len(words) > 1 && (words[1] == "TO" || (len(words) > 2 && words[2] == "TO")) {
			return kindTxOther
		}
		return kindRollback
	case "SAVEPOINT", "RELEASE":
		return kindTxOther
	case "SET", "RESET", "DISCARD":
		return kindSession
	}
	return kindWrite
}

// leadingWords returns up to n upper-cased words at the start of sql,
// skipping whitespace, comments and opening parentheses.
func leadingWords(sql string, n int) []string {
	var out []string
	s := sql
	for len(out) < n {
		s = skipSpace(s)
		for strings.HasPrefix(s, "(") {
			s = skipSpace(s[1:])
		}
		i := 0
		for i < len(s) && isWordByte(s[i]) {
			i++
		}
		if i == 0 {
			break
		}
		out = append(out, strings.ToUpper(s[:i]))
		s = s[i:]
	}
	return out
}

// allWords returns the upper-cased words of sql outside quotes and
// comments.
func allWords(sql string) []string {
	var out []string
	s := sql
	for len(s) > 0 {
		s = skipSpace(s)
		if s == "" {
			break
		}
		switch c := s[0]; {
		case c == '\'' || c == '"' || c == '`':
			end := strings.IndexByte(s[1:], c)
			if end < 0 {
				return out
			}
			s = s[end+2:]
		case isWordByte(c):
			i := 0
			for i < len(s) && isWordByte(s[i]) {
				i++
			}
			out = append(out, strings.ToUpper(s[:i]))
			s = s[i:]
		default:
			s = s[1:]
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// skipSpace skips whitespace and SQL comments.
func skipSpace(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n\f\v;")
		switch {
		case strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return ""
			}
			s = s[i+1:]
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s[2:], "*/")
			if i < 0 {
				return ""
			}
			s = s[i+4:]
		default:
			return s
		}
	}
}

// sessionSetting returns the lower-cased name and value of a plain
// "SET [SESSION] name = value" / "SET name TO value" statement, and
// whether sql is one.
func sessionSetting(sql string) (name, value string, ok bool) {
	s := skipSpace(sql)
	if len(s) < 4 || !strings.EqualFold(s[:4], "SET ") {
		return "", "", false
	}
	s = strings.TrimSpace(s[4:])
	if len(s) > 8 && strings.EqualFold(s[:8], "SESSION ") {
		s = strings.TrimSpace(s[8:])
	}
	s = strings.TrimRight(strings.TrimSpace(s), "; ")
	if i := strings.Index(s, "="); i > 0 {
		name, value = s[:i], s[i+1:]
	} else if f := strings.Fields(s); len(f) >= 3 && strings.EqualFold(f[1], "TO") {
		name, value = f[0], strings.Join(f[2:], " ")
	} else {
		return "", "", false
	}
	name = strings.ToLower(strings.TrimSpace(name))
	switch name {
	case "local", "transaction", "session", "":
		return "", "", false
	}
	value = strings.Trim(strings.TrimSpace(value), `'"`)
	return name, value, true
}
