package pgwire

import (
	"strings"
	"unicode/utf8"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// locate gives an error SQLite raised for st the position Postgres would
// give it, so that psql can print the LINE and the caret: SQLite names
// the token it stopped at, or the name it could not find, and this finds
// it in the client's text. A syntax error is worded as Postgres words it.
func locate(e *Error, st *pgsql.Statement) *Error {
	if e == nil || e.Position != 0 || st == nil {
		return e
	}
	cp := *e
	e = &cp
	msg := e.Message
	switch {
	case e.Code == codeSyntaxError && strings.HasPrefix(msg, `near "`) && strings.HasSuffix(msg, `": syntax error`):
		tok := msg[len(`near "`) : len(msg)-len(`": syntax error`)]
		if pos := st.Locate(tok); pos > 0 {
			e.Message = `syntax error at or near "` + tok + `"`
			e.Position = pos
		}
	case e.Code == codeSyntaxError && strings.Contains(msg, "incomplete input"):
		e.Message = "syntax error at end of input"
		e.Position = utf8.RuneCountInString(strings.TrimRight(st.Source, " \t\r\n;")) + 1
	case strings.HasPrefix(msg, "no such column: "), strings.HasPrefix(msg, "no such table: "),
		strings.HasPrefix(msg, "no such function: "):
		name := msg[strings.Index(msg, ": ")+2:]
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		e.Position = st.Locate(name)
	}
	return e
}
