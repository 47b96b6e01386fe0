package pgsql

import (
	"strconv"
	"strings"
)

// Some SELECTs are calls of a Postgres function that is not SQLite's to
// run, because it acts on state outside the database file: sequences
// (nextval, setval, currval) and advisory locks. They are recognised by
// their shape, SELECT of such calls alone with literal or $n arguments,
// which is what ORMs, migration tools and pg_dump send.

// SequenceCall is SELECT [pg_catalog.]nextval('name'[::regclass])
// [[AS] alias], or setval('name', n [, bool]), or currval('name').
type SequenceCall struct {
	Func   string // nextval, setval, currval
	Column string // the result column's name
	Name   string // the sequence, bare (its last name part, unquoted)
	Value  int64  // setval's
	Called bool   // setval's third argument (true without one)
}

// AdvisoryOp is what an advisory lock function does.
type AdvisoryOp uint8

const (
	AdvisoryLock      AdvisoryOp = iota + 1 // pg_[try_]advisory_[xact_]lock[_shared]
	AdvisoryUnlock                          // pg_advisory_unlock[_shared]
	AdvisoryUnlockAll                       // pg_advisory_unlock_all
)

// AdvisoryCall is a call of an advisory lock function.
type AdvisoryCall struct {
	Func   string // its name, lower-case
	Column string // the result column's name
	Op     AdvisoryOp
	Shared bool
	Wait   bool // pg_advisory_lock*: blocks until granted; try and unlock do not
	Xact   bool // held until the transaction ends
	// Args are the key: none for AdvisoryUnlockAll, one bigint or two
	// int4 otherwise.
	Args []AdvisoryArg
	// Prelude, on the statement's first call only, is a set_config the
	// statement runs before its calls, from the common table expression
	// they are selected from (parseCallsAfterSetConfig); nil otherwise.
	Prelude *SessionCmd
}

// Prelude is the set_config st runs before its advisory lock calls, or nil.
func (st *Statement) Prelude() *SessionCmd {
	if len(st.Advisory) == 0 {
		return nil
	}
	return st.Advisory[0].Prelude
}

// ReturnsBool says whether the function answers a boolean (try and
// unlock) rather than void.
func (c AdvisoryCall) ReturnsBool() bool { return !c.Wait && c.Op != AdvisoryUnlockAll }

// AdvisoryArg is an argument: parameter Param (1-based), or when Param is
// 0 the literal Value.
type AdvisoryArg struct {
	Param int
	Value int64
}

// maxCallTokens bounds the SELECTs looked at for calls: a longer one is
// something else.
const maxCallTokens = 256

// calledAt reports the function named by the select-list item at token i,
// [pg_catalog.]name(, lower-case, and the index of its '('.
func (p *parser) calledAt(i int) (string, int) {
	if p.word(i) == "pg_catalog" && p.isPunct(i+1, '.') {
		i += 2
	}
	if !p.isPunct(i+1, '(') {
		return "", 0
	}
	return p.word(i), i + 1
}

// parseCalls sets Sequence or Advisory for a SELECT of such calls.
func (p *parser) parseCalls() {
	if len(p.toks) > maxCallTokens || p.word(0) != "select" {
		return
	}
	fn, _ := p.calledAt(1)
	switch {
	case fn == "nextval" || fn == "setval" || fn == "currval":
		p.parseSequenceCall()
	case strings.HasPrefix(fn, "pg_") && strings.Contains(fn, "advisory_"):
		p.parseAdvisoryCalls()
	}
}

func (p *parser) parseSequenceCall() {
	fn, i := p.calledAt(1)
	c := SequenceCall{Func: fn, Column: fn}
	i++
	if p.kindAt(i) != tString {
		return
	}
	lit := p.text(i)
	if len(lit) < 2 || lit[len(lit)-1] != '\'' {
		return
	}
	c.Name = sequenceName(strings.ReplaceAll(lit[1:len(lit)-1], "''", "'"))
	i++
	if p.isOp(i, "::") && p.word(i+1) == "regclass" {
		i += 2
	}
	if fn == "setval" {
		if !p.isPunct(i, ',') {
			return
		}
		i++
		neg := p.isOp(i, "-")
		if neg {
			i++
		}
		if p.kindAt(i) != tNumber {
			return
		}
		v, err := strconv.ParseInt(p.text(i), 10, 64)
		if err != nil {
			return
		}
		if neg {
			v = -v
		}
		c.Value, c.Called = v, true
		i++
		if p.isPunct(i, ',') {
			switch p.word(i + 1) {
			case "true":
			case "false":
				c.Called = false
			default:
				return
			}
			i += 2
		}
	}
	if !p.isPunct(i, ')') {
		return
	}
	alias, ok := p.aliasAt(i + 1)
	if !ok || alias.next != len(p.toks) || c.Name == "" {
		return
	}
	if alias.name != "" {
		c.Column = alias.name
	}
	p.st.Sequence = &c
}

type aliasEnd struct {
	name string // "" when there is no alias
	next int    // the token after it
}

// aliasAt reads an optional [AS] alias at token i.
func (p *parser) aliasAt(i int) (aliasEnd, bool) {
	if p.word(i) == "as" {
		i++
		if k := p.kindAt(i); k != tWord && k != tQIdent {
			return aliasEnd{}, false
		}
	}
	switch p.kindAt(i) {
	case tWord:
		if w := p.word(i); w != "from" && w != "where" {
			return aliasEnd{name: w, next: i + 1}, true
		}
	case tQIdent:
		return aliasEnd{name: unquoteIdent(p.text(i)), next: i + 1}, true
	}
	return aliasEnd{next: i}, true
}

// SequenceName is the bare name a sequence's text names, as sequenceName
// reads it: what a nextval('…'::regclass) default names.
func SequenceName(s string) string { return sequenceName(s) }

// sequenceName is the bare name a sequence's text names ('public.s',
// '"S"'), as Postgres reads a regclass literal; "" if it names none.
func sequenceName(s string) string {
	var buf [8]token
	toks := lex(s, buf[:0])
	name := ""
	for i, t := range toks {
		part := i%2 == 0
		switch {
		case part && t.kind == tWord:
			name = strings.ToLower(s[t.start:t.end])
		case part && t.kind == tQIdent:
			name = unquoteIdent(s[t.start:t.end])
		case !part && t.kind == tPunct && s[t.start] == '.' && i+1 < len(toks):
		default:
			return ""
		}
	}
	return name
}

func (p *parser) parseAdvisoryCalls() {
	var calls []AdvisoryCall
	i := 1
	for {
		fn, open := p.calledAt(i)
		c := AdvisoryCall{Func: fn, Column: fn}
		if !c.setFunction() {
			return
		}
		i = open + 1
		for !p.isPunct(i, ')') {
			a, next, ok := p.advisoryArg(i)
			if !ok || len(c.Args) == 2 {
				return
			}
			c.Args = append(c.Args, a)
			i = next
			if p.isPunct(i, ',') {
				i++
			}
		}
		if (c.Op == AdvisoryUnlockAll) != (len(c.Args) == 0) {
			return
		}
		alias, ok := p.aliasAt(i + 1)
		if !ok {
			return
		}
		if alias.name != "" {
			c.Column = alias.name
		}
		calls = append(calls, c)
		i = alias.next
		if i == len(p.toks) {
			break
		}
		if !p.isPunct(i, ',') {
			return
		}
		i++
	}
	p.st.Advisory = calls
}

// setFunction reads Func: whether it is one of Postgres' advisory lock
// functions, and which.
func (c *AdvisoryCall) setFunction() bool {
	name := c.Func
	if name == "pg_advisory_unlock_all" {
		c.Op = AdvisoryUnlockAll
		return true
	}
	rest, ok := strings.CutPrefix(name, "pg_")
	if !ok {
		return false
	}
	if r, ok := strings.CutPrefix(rest, "try_"); ok {
		rest = r
	} else {
		c.Wait = true
	}
	rest, ok = strings.CutPrefix(rest, "advisory_")
	if !ok {
		return false
	}
	if r, ok := strings.CutPrefix(rest, "xact_"); ok {
		c.Xact, rest = true, r
	}
	if r, ok := strings.CutSuffix(rest, "_shared"); ok {
		c.Shared, rest = true, r
	}
	switch rest {
	case "lock":
		c.Op = AdvisoryLock
	case "unlock":
		if !c.Wait || c.Xact { // no pg_try_advisory_unlock, no xact unlock
			return false
		}
		c.Op, c.Wait = AdvisoryUnlock, false
	default:
		return false
	}
	return true
}

// advisoryArg reads an integer literal or $n at token i, with an optional
// cast to an integer type (x::bigint, CAST(x AS bigint)).
func (p *parser) advisoryArg(i int) (AdvisoryArg, int, bool) {
	integer := func(w string) bool {
		switch w {
		case "bigint", "int8", "int", "integer", "int4":
			return true
		}
		return false
	}
	cast := p.word(i) == "cast" && p.isPunct(i+1, '(')
	if cast {
		i += 2
	}
	var a AdvisoryArg
	neg := p.isOp(i, "-")
	if neg {
		i++
	}
	switch p.kindAt(i) {
	case tParam:
		if neg || !isDigit(p.src[p.toks[i].start+1]) {
			return a, i, false
		}
		n := paramNumber(p.text(i))
		if n < 1 || n > maxParams {
			return a, i, false
		}
		a.Param = n
	case tNumber:
		s := p.text(i)
		if neg {
			s = "-" + s
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return a, i, false
		}
		a.Value = v
	default:
		return a, i, false
	}
	i++
	if cast {
		if p.word(i) != "as" || !integer(p.word(i+1)) || !p.isPunct(i+2, ')') {
			return a, i, false
		}
		return a, i + 3, true
	}
	if p.isOp(i, "::") {
		if !integer(p.word(i + 1)) {
			return a, i, false
		}
		i += 2
	}
	return a, i, true
}

// parseCallsAfterSetConfig recognises a SELECT of advisory lock calls
// whose FROM is a common table expression that calls set_config, as
// Kysely's migrator takes its lock:
//
//	WITH set_timeout AS (SELECT set_config('lock_timeout', '3600000', true) AS config_val)
//	SELECT pg_advisory_lock(3853314791062309107) FROM set_timeout
//
// The expression's one row makes the select list run once, after
// set_config: the statement is the calls (Advisory) with the set_config
// as their Prelude (on the first call).
func (p *parser) parseCallsAfterSetConfig() {
	n := len(p.toks)
	if n > maxCallTokens || p.word(0) != "with" || p.word(2) != "as" || !p.isPunct(3, '(') || p.word(n-2) != "from" {
		return
	}
	name := func(i int) string {
		switch p.kindAt(i) {
		case tWord:
			return p.word(i)
		case tQIdent:
			return unquoteIdent(p.text(i))
		}
		return ""
	}
	cte := name(1)
	if cte == "" || name(n-1) != cte {
		return
	}
	end := 4
	for depth := 1; end < n && depth > 0; end++ {
		switch {
		case p.isPunct(end, '('):
			depth++
		case p.isPunct(end, ')'):
			depth--
		}
	}
	// toks[4:end-1] is the expression's SELECT, toks[end:n-2] the
	// statement's without its FROM.
	body := p.toks[4 : end-1]
	if k := len(body); k > 2 && p.isPunct(4+k-2, ')') && p.kindAt(4+k-1) == tWord {
		body = body[:k-1] // set_config(…) alias
	} else if k > 3 && p.word(4+k-2) == "as" {
		body = body[:k-2] // set_config(…) AS alias
	}
	var set, calls Statement
	(&parser{src: p.src, toks: body, st: &set}).parseSetConfig()
	(&parser{src: p.src, toks: p.toks[end : n-2], st: &calls}).parseCalls()
	if set.Session == nil || len(calls.Advisory) == 0 {
		return
	}
	calls.Advisory[0].Prelude = set.Session
	p.st.Advisory = calls.Advisory
}
