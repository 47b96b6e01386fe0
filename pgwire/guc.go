package pgwire

import (
	"fmt"
	"sort"
	"strings"
)

// This file keeps the run-time parameters (GUCs, in Postgres' terms) of a
// connection and parses the statements that pgwire answers itself: SET,
// RESET, SHOW and DISCARD.

type gucDef struct {
	name     string // canonical spelling, as SHOW and ParameterStatus use it
	def      string
	report   bool // sent as ParameterStatus at startup and when it changes
	readOnly bool // SET fails with 55P02
	fixed    bool // SET is accepted but the value stays
	desc     string
}

// gucDefs are the parameters pgwire knows. server_version and
// session_authorization get their values per connection.
var gucDefs = []gucDef{
	{name: "application_name", report: true, desc: "Sets the application name to be reported in statistics and logs."},
	{name: "client_encoding", def: "UTF8", report: true, desc: "Sets the client's character set encoding."},
	{name: "DateStyle", def: "ISO, MDY", report: true, desc: "Sets the display format for date and time values."},
	{name: "default_transaction_read_only", def: "off", report: true, desc: "Sets the default read-only status of new transactions."},
	{name: "in_hot_standby", def: "off", report: true, readOnly: true, desc: "Shows whether hot standby is currently active."},
	{name: "integer_datetimes", def: "on", report: true, readOnly: true, desc: "Shows whether datetimes are integer based."},
	{name: "IntervalStyle", def: "postgres", report: true, desc: "Sets the display format for interval values."},
	{name: "is_superuser", def: "on", report: true, readOnly: true, desc: "Shows whether the current user is a superuser."},
	{name: "server_encoding", def: "UTF8", report: true, readOnly: true, desc: "Shows the server (database) character set encoding."},
	{name: "server_version", report: true, readOnly: true, desc: "Shows the server version."},
	{name: "session_authorization", report: true, readOnly: true, desc: "Sets the session user name."},
	{name: "standard_conforming_strings", def: "on", report: true, desc: "Causes '...' strings to treat backslashes literally."},
	{name: "TimeZone", def: "UTC", report: true, desc: "Sets the time zone for displaying and interpreting time stamps."},

	{name: "server_version_num", readOnly: true, desc: "Shows the server version as an integer."},
	{name: "transaction_isolation", def: "serializable", fixed: true, desc: "Sets the current transaction's isolation level."},
	{name: "default_transaction_isolation", def: "serializable", fixed: true, desc: "Sets the transaction isolation level of each new transaction."},
	{name: "transaction_read_only", def: "off", fixed: true, desc: "Sets the current transaction's read-only status."},
	{name: "search_path", def: `"$user", public`, desc: "Sets the schema search order for names that are not schema-qualified."},
	{name: "extra_float_digits", def: "1", desc: "Sets the number of digits displayed for floating-point values."},
	{name: "max_identifier_length", def: "63", readOnly: true, desc: "Shows the maximum identifier length."},
	{name: "bytea_output", def: "hex", fixed: true, desc: "Sets the output format for bytea."},
	{name: "statement_timeout", def: "0", desc: "Sets the maximum allowed duration of any statement."},
	{name: "lock_timeout", def: "0", desc: "Sets the maximum allowed duration of any wait for a lock."},
	{name: "idle_in_transaction_session_timeout", def: "0", desc: "Sets the maximum allowed idle time between queries, when in a transaction."},
	{name: "client_min_messages", def: "notice", desc: "Sets the message levels that are sent to the client."},
	{name: "lc_messages", def: "C", desc: "Sets the language in which messages are displayed."},
	{name: "lc_collate", def: "C", readOnly: true, desc: "Shows the collation order locale."},
	{name: "lc_ctype", def: "C", readOnly: true, desc: "Shows the character classification and case conversion locale."},
}

var gucByKey = func() map[string]*gucDef {
	m := make(map[string]*gucDef, len(gucDefs))
	for i := range gucDefs {
		m[strings.ToLower(gucDefs[i].name)] = &gucDefs[i]
	}
	return m
}()

// canonicalName is the spelling of a parameter name for SHOW and
// ParameterStatus.
func canonicalName(key string) string {
	if d, ok := gucByKey[key]; ok {
		return d.name
	}
	return key
}

// settings are one connection's parameters, keyed by lower-case name.
type settings struct {
	vals  map[string]string
	reset map[string]string // values RESET returns to: the defaults after startup
}

func newSettings(serverVersion, user, versionNum string) *settings {
	s := &settings{vals: make(map[string]string), reset: make(map[string]string)}
	for _, d := range gucDefs {
		s.vals[strings.ToLower(d.name)] = d.def
	}
	s.vals["server_version"] = serverVersion
	s.vals["server_version_num"] = versionNum
	s.vals["session_authorization"] = user
	return s
}

// snapshot makes the current values the ones RESET returns to.
func (s *settings) snapshot() {
	clear(s.reset)
	for k, v := range s.vals {
		s.reset[k] = v
	}
}

// normalize checks a new value for a parameter pgwire itself cares about and
// returns it in canonical form.
func normalizeSetting(key, value string) (string, *Error) {
	if d, ok := gucByKey[key]; ok && d.readOnly {
		return "", newError(codeCantChangeRuntimeParam, fmt.Sprintf("parameter %q cannot be changed", d.name))
	}
	switch key {
	case "client_encoding":
		v := strings.ToUpper(strings.NewReplacer("-", "", "_", "").Replace(value))
		if v != "UTF8" && v != "UNICODE" {
			e := newError(codeInvalidParameterValue, fmt.Sprintf("invalid value for parameter \"client_encoding\": %q", value))
			e.Detail = "Only UTF8 is supported."
			return "", e
		}
		return "UTF8", nil
	case "standard_conforming_strings":
		if b, ok := parseBool(value); !ok || !b {
			return "", newError(codeInvalidParameterValue, fmt.Sprintf("invalid value for parameter \"standard_conforming_strings\": %q (only on is supported)", value))
		}
		return "on", nil
	case "datestyle":
		order := "MDY"
		for _, part := range strings.Split(value, ",") {
			switch strings.ToUpper(strings.TrimSpace(part)) {
			case "ISO", "":
			case "MDY", "US", "NONEUROPEAN":
				order = "MDY"
			case "DMY", "EUROPEAN":
				order = "DMY"
			case "YMD":
				order = "YMD"
			default:
				e := newError(codeInvalidParameterValue, fmt.Sprintf("invalid value for parameter \"DateStyle\": %q", value))
				e.Detail = "Only the ISO output style is supported."
				return "", e
			}
		}
		return "ISO, " + order, nil
	case "intervalstyle":
		if !strings.EqualFold(value, "postgres") {
			return "", newError(codeInvalidParameterValue, fmt.Sprintf("invalid value for parameter \"IntervalStyle\": %q", value))
		}
		return "postgres", nil
	case "timezone":
		if strings.EqualFold(value, "utc") || strings.EqualFold(value, "etc/utc") || value == "0" {
			return "UTC", nil
		}
	}
	return value, nil
}

// Kinds of statement pgwire answers itself.
type localKind uint8

const (
	localNone localKind = iota
	localSet
	localReset
	localShow
	localDiscard
	localDeallocate // DEALLOCATE [PREPARE] name|ALL
	localListen     // LISTEN, UNLISTEN: accepted; no notification is ever sent
	localSetConfig  // SELECT set_config('name', 'value', is_local): SET, returning the value
	localLock       // LOCK TABLE … IN ACCESS SHARE MODE, in a transaction block
)

// localCmd is a parsed SET, RESET, SHOW or DISCARD.
type localCmd struct {
	kind  localKind
	name  string // lower-case parameter name; "all" for RESET ALL / SHOW ALL
	value string // SET: the value list as text
	dflt  bool   // SET … TO DEFAULT, RESET
	noop  bool   // accepted and ignored (SET TRANSACTION …)
	tag   string // DISCARD's tag
}

// classifyLocal reports whether sql is one of the statements pgwire answers
// itself and, if so, parses it.
func classifyLocal(sql string) (localCmd, bool, *Error) {
	w := leadingWords(sql, 1)
	if len(w) == 0 {
		return localCmd{}, false, nil
	}
	switch w[0] {
	case "SET", "RESET", "SHOW", "DISCARD":
	case "DEALLOCATE", "LISTEN", "UNLISTEN":
		return parseListenDeallocate(w[0], sql)
	case "NOTIFY":
		return localCmd{}, true, newError(codeFeatureNotSupported, "NOTIFY is not supported")
	default:
		return localCmd{}, false, nil
	}
	c, err := parseLocal(sql)
	return c, true, err
}

func syntaxError(sql string, at int) *Error {
	e := newError(codeSyntaxError, "syntax error")
	if at >= len(sql) {
		e.Message = "syntax error at end of input"
	} else {
		e.Message = fmt.Sprintf("syntax error at or near %q", tokenAt(sql, at))
	}
	e.Position = len([]rune(sql[:min(at, len(sql))])) + 1
	return e
}

func tokenAt(sql string, at int) string {
	l := &lexer{s: sql, pos: at}
	if t, ok := l.next(); ok {
		return sql[t.start:t.end]
	}
	return ""
}

// parseLocal parses SET, RESET, SHOW and DISCARD.
func parseLocal(sql string) (localCmd, *Error) {
	var toks []token
	l := newLexer(sql)
	for {
		t, ok := l.nextSignificant()
		if !ok {
			break
		}
		toks = append(toks, t)
		if len(toks) > 4096 {
			return localCmd{}, newError(codeProgramLimitExceeded, "statement too long")
		}
	}
	text := func(i int) string { return sql[toks[i].start:toks[i].end] }
	word := func(i int) string {
		if i < len(toks) && toks[i].kind == tkWord {
			return strings.ToUpper(text(i))
		}
		return ""
	}
	errAt := func(i int) *Error {
		if i < len(toks) {
			return syntaxError(sql, toks[i].start)
		}
		return syntaxError(sql, len(sql))
	}
	// readName reads a possibly dotted parameter name starting at i.
	readName := func(i int) (string, int, *Error) {
		var parts []string
		for {
			if i >= len(toks) {
				return "", i, errAt(i)
			}
			switch toks[i].kind {
			case tkWord:
				parts = append(parts, strings.ToLower(text(i)))
			case tkQIdent:
				parts = append(parts, unquoteIdent(text(i)))
			default:
				return "", i, errAt(i)
			}
			i++
			if i < len(toks) && toks[i].kind == tkOp && text(i) == "." {
				i++
				continue
			}
			return strings.Join(parts, "."), i, nil
		}
	}
	i := 0
	switch word(0) {
	case "DISCARD":
		switch w := word(1); w {
		case "ALL", "PLANS", "SEQUENCES", "TEMP", "TEMPORARY":
			if len(toks) != 2 {
				return localCmd{}, errAt(2)
			}
			if w == "TEMPORARY" {
				w = "TEMP"
			}
			return localCmd{kind: localDiscard, name: strings.ToLower(w), tag: "DISCARD " + w}, nil
		}
		return localCmd{}, errAt(1)
	case "SHOW", "RESET":
		kind := localShow
		if word(0) == "RESET" {
			kind = localReset
		}
		c := localCmd{kind: kind, dflt: kind == localReset}
		switch {
		case word(1) == "ALL" && len(toks) == 2:
			c.name = "all"
			return c, nil
		case word(1) == "TIME" && word(2) == "ZONE" && len(toks) == 3:
			c.name = "timezone"
			return c, nil
		case word(1) == "SESSION" && word(2) == "AUTHORIZATION" && len(toks) == 3:
			c.name = "session_authorization"
			c.noop = kind == localReset
			return c, nil
		case kind == localShow && word(1) == "TRANSACTION" && word(2) == "ISOLATION" && word(3) == "LEVEL" && len(toks) == 4:
			c.name = "transaction_isolation"
			return c, nil
		}
		name, j, err := readName(1)
		if err != nil {
			return localCmd{}, err
		}
		if j != len(toks) {
			return localCmd{}, errAt(j)
		}
		c.name = name
		return c, nil
	}
	// SET
	c := localCmd{kind: localSet}
	i = 1
	if w := word(i); w == "SESSION" || w == "LOCAL" {
		switch word(i + 1) {
		case "AUTHORIZATION":
			c.name = "session_authorization"
			c.value = valueText(sql, toks[min(i+2, len(toks)):])
			return c, nil
		case "CHARACTERISTICS":
			c.noop = true
			return c, nil
		}
		i++
	}
	switch word(i) {
	case "TRANSACTION", "CONSTRAINTS", "ROLE":
		c.noop = true
		return c, nil
	case "TIME":
		if word(i+1) != "ZONE" {
			break
		}
		c.name = "timezone"
		vals := toks[i+2:]
		if len(vals) == 0 {
			return localCmd{}, errAt(i + 2)
		}
		if len(vals) == 1 && vals[0].kind == tkWord {
			if v := strings.ToUpper(sql[vals[0].start:vals[0].end]); v == "LOCAL" || v == "DEFAULT" {
				c.dflt = true
				return c, nil
			}
		}
		v, err := parseValueList(sql, vals)
		if err != nil {
			return localCmd{}, err
		}
		c.value = v
		return c, nil
	case "NAMES":
		c.name = "client_encoding"
		v, err := parseValueList(sql, toks[i+1:])
		if err != nil {
			return localCmd{}, err
		}
		c.value = v
		return c, nil
	}
	name, j, err := readName(i)
	if err != nil {
		return localCmd{}, err
	}
	c.name = name
	if word(j) == "FROM" && word(j+1) == "CURRENT" {
		c.noop = true
		return c, nil
	}
	if !(word(j) == "TO" || (j < len(toks) && toks[j].kind == tkOp && text(j) == "=")) {
		return localCmd{}, errAt(j)
	}
	vals := toks[j+1:]
	if len(vals) == 0 {
		return localCmd{}, errAt(j + 1)
	}
	if len(vals) == 1 && vals[0].kind == tkWord && strings.EqualFold(sql[vals[0].start:vals[0].end], "default") {
		c.dflt = true
		return c, nil
	}
	v, err := parseValueList(sql, vals)
	if err != nil {
		return localCmd{}, err
	}
	c.value = v
	return c, nil
}

// parseValueList reads the comma-separated value list of SET: identifiers
// (lower-cased unless quoted), strings, signed numbers.
func parseValueList(sql string, toks []token) (string, *Error) {
	var items []string
	expectItem := true
	sign := ""
	for _, t := range toks {
		s := sql[t.start:t.end]
		if !expectItem {
			if t.kind == tkPunct && s == "," {
				expectItem = true
				continue
			}
			// Something we do not parse (SET TIME ZONE INTERVAL '…'
			// HOUR TO MINUTE): keep the text as written.
			return valueText(sql, toks), nil
		}
		switch t.kind {
		case tkOp:
			if (s == "-" || s == "+") && sign == "" {
				sign = s
				continue
			}
			return "", syntaxError(sql, t.start)
		case tkNumber:
			items = append(items, strings.TrimPrefix(sign+s, "+"))
		case tkWord:
			if sign != "" {
				return "", syntaxError(sql, t.start)
			}
			items = append(items, strings.ToLower(s))
		case tkQIdent:
			items = append(items, unquoteIdent(s))
		case tkString:
			items = append(items, unquoteString(s))
		case tkDollar:
			items = append(items, unquoteDollar(s))
		default:
			return "", syntaxError(sql, t.start)
		}
		sign = ""
		expectItem = false
	}
	if expectItem {
		return "", syntaxError(sql, len(sql))
	}
	return strings.Join(items, ", "), nil
}

func valueText(sql string, toks []token) string {
	if len(toks) == 0 {
		return ""
	}
	return sql[toks[0].start:toks[len(toks)-1].end]
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

// unquoteString returns the value of a '…' or E'…' literal.
func unquoteString(s string) string {
	escapes := false
	if len(s) > 0 && (s[0] == 'E' || s[0] == 'e') {
		escapes = true
		s = s[1:]
	}
	s = strings.TrimPrefix(s, "'")
	s = strings.TrimSuffix(s, "'")
	if !escapes {
		return strings.ReplaceAll(s, "''", "'")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' && i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
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
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// showAll lists every parameter for SHOW ALL, sorted by name.
func (s *settings) showAll(show func(string) (string, bool)) [][]any {
	keys := make([]string, 0, len(s.vals))
	for k := range s.vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows := make([][]any, 0, len(keys))
	for _, k := range keys {
		v := s.vals[k]
		if sv, ok := show(k); ok {
			v = sv
		}
		desc := ""
		if d, ok := gucByKey[k]; ok {
			desc = d.desc
		}
		rows = append(rows, []any{canonicalName(k), v, desc})
	}
	return rows
}

// parseSetConfig reports whether sql is a SELECT of set_config alone,
// with literal arguments, as pg_dump sends one:
// SELECT pg_catalog.set_config('search_path', ”, false). It is SET
// (is_local, like SET LOCAL, sets the parameter for the session: pgwire
// keeps no per-transaction settings), answered with the value set.
func parseSetConfig(sql string) (localCmd, bool) {
	var toks []token
	l := newLexer(sql)
	for len(toks) < 32 {
		t, ok := l.nextSignificant()
		if !ok {
			break
		}
		toks = append(toks, t)
	}
	if n := len(toks); n > 0 && sql[toks[n-1].start:toks[n-1].end] == ";" {
		toks = toks[:n-1]
	}
	text := func(i int) string { return sql[toks[i].start:toks[i].end] }
	i := 0
	want := func(kind tokKind, word string) bool {
		if i >= len(toks) || toks[i].kind != kind || word != "" && !strings.EqualFold(text(i), word) {
			return false
		}
		i++
		return true
	}
	if !want(tkWord, "select") {
		return localCmd{}, false
	}
	if want(tkWord, "pg_catalog") && !want(tkOp, ".") {
		return localCmd{}, false
	}
	if !want(tkWord, "set_config") || !want(tkPunct, "(") {
		return localCmd{}, false
	}
	var args []string
	for len(args) < 3 {
		switch {
		case i < len(toks) && toks[i].kind == tkString:
			args = append(args, unquoteString(text(i)))
		case i < len(toks) && toks[i].kind == tkWord && (strings.EqualFold(text(i), "true") || strings.EqualFold(text(i), "false")):
			args = append(args, strings.ToLower(text(i)))
		default:
			return localCmd{}, false
		}
		i++
		sep := ","
		if len(args) == 3 {
			sep = ")"
		}
		if !want(tkPunct, sep) {
			return localCmd{}, false
		}
	}
	if i != len(toks) || args[2] != "true" && args[2] != "false" && args[2] != "t" && args[2] != "f" {
		return localCmd{}, false
	}
	return localCmd{kind: localSetConfig, name: strings.ToLower(args[0]), value: args[1]}, true
}

// parseLock parses LOCK [TABLE] [ONLY] name [*] [, …] [IN mode MODE]
// [NOWAIT]. Only ACCESS SHARE, what pg_dump takes, is accepted: it
// conflicts with nothing but what changes a table's definition, and a
// transaction of raftsql reads one snapshot, which a concurrent ALTER or
// DROP does not change. Other modes, which promise to hold off writers,
// are refused.
func parseLock(sql string) (localCmd, *Error) {
	var toks []token
	l := newLexer(sql)
	for len(toks) <= 4096 {
		t, ok := l.nextSignificant()
		if !ok {
			break
		}
		toks = append(toks, t)
	}
	if n := len(toks); n > 0 && sql[toks[n-1].start:toks[n-1].end] == ";" {
		toks = toks[:n-1]
	}
	word := func(i int) string {
		if i < len(toks) && toks[i].kind == tkWord {
			return strings.ToUpper(sql[toks[i].start:toks[i].end])
		}
		return ""
	}
	i := 1
	if word(i) == "TABLE" {
		i++
	}
	for i < len(toks) && word(i) != "IN" && word(i) != "NOWAIT" {
		i++
	}
	if i == 1 || i == 2 && word(1) == "TABLE" {
		return localCmd{}, syntaxError(sql, len(sql))
	}
	mode := "ACCESS EXCLUSIVE"
	if word(i) == "IN" {
		j := i + 1
		var m []string
		for j < len(toks) && word(j) != "MODE" {
			m = append(m, word(j))
			j++
		}
		if j == len(toks) {
			return localCmd{}, syntaxError(sql, len(sql))
		}
		mode = strings.Join(m, " ")
		i = j + 1
	}
	if word(i) == "NOWAIT" {
		i++
	}
	if i != len(toks) {
		return localCmd{}, syntaxError(sql, toks[i].start)
	}
	if mode != "ACCESS SHARE" {
		return localCmd{}, newError(codeFeatureNotSupported, "LOCK TABLE IN "+mode+" MODE is not supported; ACCESS SHARE is")
	}
	return localCmd{kind: localLock, tag: "LOCK TABLE"}, nil
}

// parseListenDeallocate parses DEALLOCATE [PREPARE] name|ALL and
// LISTEN|UNLISTEN channel|*.
func parseListenDeallocate(verb, sql string) (localCmd, bool, *Error) {
	f := strings.Fields(strings.TrimRight(strings.TrimSpace(sql), "; \t\n"))
	if verb == "DEALLOCATE" {
		if len(f) > 1 && strings.EqualFold(f[1], "prepare") {
			f = append(f[:1], f[2:]...)
		}
		if len(f) != 2 {
			return localCmd{}, true, syntaxError(sql, len(sql))
		}
		name := f[1]
		if strings.EqualFold(name, "all") {
			return localCmd{kind: localDeallocate, name: "all", tag: "DEALLOCATE ALL"}, true, nil
		}
		if strings.HasPrefix(name, `"`) {
			name = unquoteIdent(name)
		} else {
			name = strings.ToLower(name)
		}
		return localCmd{kind: localDeallocate, name: name, value: "name", tag: "DEALLOCATE"}, true, nil
	}
	if len(f) != 2 {
		return localCmd{}, true, syntaxError(sql, len(sql))
	}
	return localCmd{kind: localListen, name: f[1], tag: verb}, true, nil
}
