package pgsql

import (
	"fmt"
	"strings"
)

// SessionOp is what a session command does.
type SessionOp uint8

const (
	SessionNone       SessionOp = iota
	SessionSet                  // SET, SET SESSION|LOCAL, SET TIME ZONE, SET NAMES
	SessionReset                // RESET name|ALL
	SessionShow                 // SHOW name|ALL
	SessionDiscard              // DISCARD ALL|PLANS|SEQUENCES|TEMP
	SessionDeallocate           // DEALLOCATE [PREPARE] name|ALL
	SessionListen               // LISTEN, UNLISTEN
	SessionSetConfig            // SELECT set_config('name', 'value', is_local) alone, with literals
	SessionLock                 // LOCK [TABLE] … IN ACCESS SHARE MODE
)

// SessionCmd is a parsed statement about the session's own state, which
// the session answers without SQLite.
type SessionCmd struct {
	Op SessionOp
	// Name is the lower-case parameter (a quoted part keeps its case),
	// "all" for RESET ALL, SHOW ALL and DEALLOCATE ALL, the statement's
	// name for DEALLOCATE, the channel as written for LISTEN.
	Name string
	// Value is SET's value list as text (identifiers lower-cased, strings
	// unquoted, items joined by ", "), set_config's value; for DEALLOCATE,
	// "name" when Name is a statement's name rather than ALL (a statement
	// may be named "all").
	Value   string
	Local   bool // SET LOCAL, set_config(…, true): for the transaction only
	Session bool // SET SESSION
	Default bool // SET … TO DEFAULT, SET TIME ZONE LOCAL|DEFAULT, RESET
	// NoOp is a statement accepted and ignored: SET TRANSACTION …, SET
	// SESSION CHARACTERISTICS …, SET CONSTRAINTS, SET ROLE, SET … FROM
	// CURRENT, RESET SESSION AUTHORIZATION.
	NoOp bool
	Tag  string // the command tag, when it is not the verb
}

// maxSessionTokens bounds the statements parsed here: a SET is short.
const maxSessionTokens = 4096

// syntaxError fails with 42601 at token i (at the end of the input past
// the last token), as Postgres words it.
func (p *parser) syntaxError(i int) {
	if i >= len(p.toks) {
		p.err = &Error{Code: "42601", Message: "syntax error at end of input", Position: charPos(p.src, len(p.src))}
		return
	}
	p.err = &Error{Code: "42601", Message: fmt.Sprintf("syntax error at or near %q", p.text(i)), Position: charPos(p.src, int(p.toks[i].start))}
}

// upperWord is token i upper-cased if it is an unquoted word, else "".
func (p *parser) upperWord(i int) string {
	if p.kindAt(i) != tWord {
		return ""
	}
	return strings.ToUpper(p.text(i))
}

// parseSession parses the statements of Kind Session the session answers
// itself; the others (PREPARE, EXECUTE) keep Session nil.
func (p *parser) parseSession() {
	op := SessionNone
	switch p.st.Verb {
	case "SET":
		op = SessionSet
	case "RESET":
		op = SessionReset
	case "SHOW":
		op = SessionShow
	case "DISCARD":
		op = SessionDiscard
	case "DEALLOCATE":
		op = SessionDeallocate
	case "LISTEN", "UNLISTEN":
		op = SessionListen
	case "NOTIFY":
		p.st.Session = &SessionCmd{}
		p.err = &Error{Code: "0A000", Message: "NOTIFY is not supported"}
		return
	default:
		return
	}
	c := &SessionCmd{Op: op}
	p.st.Session = c
	if len(p.toks) > maxSessionTokens {
		p.err = &Error{Code: "54000", Message: "statement too long"}
		return
	}
	switch op {
	case SessionDiscard:
		switch w := p.upperWord(1); w {
		case "ALL", "PLANS", "SEQUENCES", "TEMP", "TEMPORARY":
			if len(p.toks) != 2 {
				p.syntaxError(2)
				return
			}
			if w == "TEMPORARY" {
				w = "TEMP"
			}
			c.Name, c.Tag = strings.ToLower(w), "DISCARD "+w
			return
		}
		p.syntaxError(1)
	case SessionShow, SessionReset:
		c.Default = op == SessionReset
		switch {
		case p.upperWord(1) == "ALL" && len(p.toks) == 2:
			c.Name = "all"
			return
		case p.upperWord(1) == "TIME" && p.upperWord(2) == "ZONE" && len(p.toks) == 3:
			c.Name = "timezone"
			return
		case p.upperWord(1) == "SESSION" && p.upperWord(2) == "AUTHORIZATION" && len(p.toks) == 3:
			c.Name = "session_authorization"
			c.NoOp = op == SessionReset
			return
		case op == SessionShow && p.upperWord(1) == "TRANSACTION" && p.upperWord(2) == "ISOLATION" && p.upperWord(3) == "LEVEL" && len(p.toks) == 4:
			c.Name = "transaction_isolation"
			return
		}
		name, j, ok := p.settingName(1)
		if !ok {
			return
		}
		if j != len(p.toks) {
			p.syntaxError(j)
			return
		}
		c.Name = name
	case SessionDeallocate, SessionListen:
		p.parseDeallocateListen(c)
	case SessionSet:
		p.parseSet(c)
	}
}

// settingName reads a possibly dotted parameter name at token i.
func (p *parser) settingName(i int) (string, int, bool) {
	var parts []string
	for {
		switch p.kindAt(i) {
		case tWord:
			parts = append(parts, strings.ToLower(p.text(i)))
		case tQIdent:
			parts = append(parts, unquoteIdent(p.text(i)))
		default:
			p.syntaxError(i)
			return "", i, false
		}
		i++
		if p.isPunct(i, '.') {
			i++
			continue
		}
		return strings.Join(parts, "."), i, true
	}
}

func (p *parser) parseSet(c *SessionCmd) {
	i := 1
	if w := p.upperWord(i); w == "SESSION" || w == "LOCAL" {
		c.Local, c.Session = w == "LOCAL", w == "SESSION"
		switch p.upperWord(i + 1) {
		case "AUTHORIZATION":
			c.Name = "session_authorization"
			c.Value = p.span(min(i+2, len(p.toks)), len(p.toks))
			return
		case "CHARACTERISTICS":
			c.NoOp = true
			return
		}
		i++
	}
	switch p.upperWord(i) {
	case "TRANSACTION", "CONSTRAINTS", "ROLE":
		c.NoOp = true
		return
	case "TIME":
		if p.upperWord(i+1) != "ZONE" {
			break
		}
		c.Name = "timezone"
		if i+2 >= len(p.toks) {
			p.syntaxError(i + 2)
			return
		}
		if i+3 == len(p.toks) {
			if v := p.upperWord(i + 2); v == "LOCAL" || v == "DEFAULT" {
				c.Default = true
				return
			}
		}
		c.Value, _ = p.valueList(i + 2)
		return
	case "NAMES":
		c.Name = "client_encoding"
		c.Value, _ = p.valueList(i + 1)
		return
	}
	name, j, ok := p.settingName(i)
	if !ok {
		return
	}
	c.Name = name
	if p.upperWord(j) == "FROM" && p.upperWord(j+1) == "CURRENT" {
		c.NoOp = true
		return
	}
	if !(p.upperWord(j) == "TO" || p.isOp(j, "=")) {
		p.syntaxError(j)
		return
	}
	if j+1 >= len(p.toks) {
		p.syntaxError(j + 1)
		return
	}
	if j+2 == len(p.toks) && p.word(j+1) == "default" {
		c.Default = true
		return
	}
	c.Value, _ = p.valueList(j + 1)
}

// span is the text of tokens [i, j), as written.
func (p *parser) span(i, j int) string {
	if i >= j {
		return ""
	}
	return p.src[p.toks[i].start:p.toks[j-1].end]
}

// valueList reads SET's comma-separated value list from token i to the
// end: identifiers (lower-cased unless quoted), strings, signed numbers.
// What it does not parse (SET TIME ZONE INTERVAL '…' HOUR TO MINUTE) is
// kept as written.
func (p *parser) valueList(from int) (string, bool) {
	var items []string
	expectItem := true
	sign := ""
	for i := from; i < len(p.toks); i++ {
		s := p.text(i)
		if !expectItem {
			if p.isPunct(i, ',') {
				expectItem = true
				continue
			}
			return p.span(from, len(p.toks)), true
		}
		switch p.kindAt(i) {
		case tOp:
			if (s == "-" || s == "+") && sign == "" {
				sign = s
				continue
			}
			p.syntaxError(i)
			return "", false
		case tNumber:
			items = append(items, strings.TrimPrefix(sign+s, "+"))
		case tWord:
			if sign != "" {
				p.syntaxError(i)
				return "", false
			}
			items = append(items, strings.ToLower(s))
		case tQIdent:
			items = append(items, unquoteIdent(s))
		case tString, tEString:
			items = append(items, unquoteString(s))
		case tDollar:
			items = append(items, unquoteDollar(s))
		default:
			p.syntaxError(i)
			return "", false
		}
		sign = ""
		expectItem = false
	}
	if expectItem {
		p.syntaxError(len(p.toks))
		return "", false
	}
	return strings.Join(items, ", "), true
}

// parseDeallocateListen parses DEALLOCATE [PREPARE] name|ALL and
// LISTEN|UNLISTEN channel|*.
func (p *parser) parseDeallocateListen(c *SessionCmd) {
	f := strings.Fields(strings.TrimRight(strings.TrimSpace(p.src), "; \t\n"))
	if c.Op == SessionListen {
		if len(f) != 2 {
			p.syntaxError(len(p.toks))
			return
		}
		c.Name, c.Tag = f[1], p.st.Verb
		return
	}
	if len(f) > 1 && strings.EqualFold(f[1], "prepare") {
		f = append(f[:1], f[2:]...)
	}
	if len(f) != 2 {
		p.syntaxError(len(p.toks))
		return
	}
	name := f[1]
	if strings.EqualFold(name, "all") {
		c.Name, c.Tag = "all", "DEALLOCATE ALL"
		return
	}
	if strings.HasPrefix(name, `"`) {
		name = unquoteIdent(name)
	} else {
		name = strings.ToLower(name)
	}
	c.Name, c.Value, c.Tag = name, "name", "DEALLOCATE"
}

// parseSetConfig recognises a SELECT of set_config alone, with literal
// arguments, as pg_dump sends one:
//
//	SELECT pg_catalog.set_config('search_path', '', false)
func (p *parser) parseSetConfig() {
	if len(p.toks) > 32 || p.word(0) != "select" {
		return
	}
	i := 1
	want := func(kind tokKind, word string) bool {
		if p.kindAt(i) != kind || word != "" && !strings.EqualFold(p.text(i), word) {
			return false
		}
		i++
		return true
	}
	if want(tWord, "pg_catalog") && !want(tPunct, ".") {
		return
	}
	if !want(tWord, "set_config") || !want(tPunct, "(") {
		return
	}
	var args []string
	for len(args) < 3 {
		switch k := p.kindAt(i); {
		case k == tString || k == tEString:
			args = append(args, unquoteString(p.text(i)))
		case k == tWord && (p.word(i) == "true" || p.word(i) == "false"):
			args = append(args, p.word(i))
		default:
			return
		}
		i++
		sep := ","
		if len(args) == 3 {
			sep = ")"
		}
		if !want(tPunct, sep) {
			return
		}
	}
	if i != len(p.toks) || args[2] != "true" && args[2] != "false" && args[2] != "t" && args[2] != "f" {
		return
	}
	p.st.Session = &SessionCmd{Op: SessionSetConfig, Name: strings.ToLower(args[0]), Value: args[1], Local: args[2] == "true" || args[2] == "t"}
}

// parseLock parses LOCK [TABLE] [ONLY] name [*] [, …] [IN mode MODE]
// [NOWAIT]. Only ACCESS SHARE, what pg_dump takes, is accepted: it
// conflicts with nothing but what changes a table's definition, and a
// transaction of raftsql reads one snapshot, which a concurrent ALTER or
// DROP does not change. Other modes, which promise to hold off writers,
// are refused.
func (p *parser) parseLock() {
	p.st.Session = &SessionCmd{Op: SessionLock, Tag: "LOCK TABLE"}
	word := p.upperWord
	i := 1
	if word(i) == "TABLE" {
		i++
	}
	for i < len(p.toks) && word(i) != "IN" && word(i) != "NOWAIT" {
		i++
	}
	if i == 1 || i == 2 && word(1) == "TABLE" {
		p.syntaxError(len(p.toks))
		return
	}
	mode := "ACCESS EXCLUSIVE"
	if word(i) == "IN" {
		j := i + 1
		var m []string
		for j < len(p.toks) && word(j) != "MODE" {
			m = append(m, word(j))
			j++
		}
		if j == len(p.toks) {
			p.syntaxError(len(p.toks))
			return
		}
		mode = strings.Join(m, " ")
		i = j + 1
	}
	if word(i) == "NOWAIT" {
		i++
	}
	if i != len(p.toks) {
		p.syntaxError(i)
		return
	}
	if mode != "ACCESS SHARE" {
		p.err = &Error{Code: "0A000", Message: "LOCK TABLE IN " + mode + " MODE is not supported; ACCESS SHARE is"}
	}
}

func unquoteIdent(s string) string {
	s = strings.TrimPrefix(s, `"`)
	s = strings.TrimSuffix(s, `"`)
	return strings.ReplaceAll(s, `""`, `"`)
}

func unquoteDollar(s string) string {
	i := strings.IndexByte(s[1:], '$')
	if i < 0 {
		return s
	}
	delim := s[:i+2]
	body := strings.TrimPrefix(s, delim)
	return strings.TrimSuffix(body, delim)
}

// unquoteString returns the value of a '…' or E'…' literal, leniently: an
// unterminated one is read to its end, and an E'…' that unescapeE refuses
// is read as a plain one.
func unquoteString(s string) string {
	if len(s) > 0 && (s[0] == 'E' || s[0] == 'e') {
		if v, msg := unescapeE(s); msg == "" {
			return v
		}
		s = s[1:]
	}
	s = strings.TrimPrefix(s, "'")
	s = strings.TrimSuffix(s, "'")
	return strings.ReplaceAll(s, "''", "'")
}
