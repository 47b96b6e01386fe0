package pgsql

import (
	"strings"
)

// maxParams is the largest $n a statement may use (Postgres' limit).
const maxParams = 65535

// Parse parses one statement (a Piece of Split, or a Parse message's
// text). It never fails: a statement it cannot translate has Err set.
func Parse(src string) *Statement { return parse(src, true) }

// Verbatim parses a statement that is SQLite's text already (one a caller
// made up): its kind, verb, parameters and tag, with SQL the text as it is.
func Verbatim(src string) *Statement { return parse(src, false) }

func parse(src string, translate bool) *Statement {
	var buf [48]token
	all := lex(src, buf[:0])
	toks := all[:0]
	for _, t := range all {
		if t.kind == tComment {
			continue
		}
		toks = append(toks, t)
	}
	// A trailing ';' (a Parse message may carry one).
	for len(toks) > 0 && toks[len(toks)-1].kind == tPunct && src[toks[len(toks)-1].start] == ';' {
		toks = toks[:len(toks)-1]
	}
	st := &Statement{Source: src}
	p := &parser{src: src, toks: toks, st: st, prim: -1}
	if len(toks) == 0 {
		st.Kind = Empty
		return st
	}
	p.classify()
	if st.Verb == "EXPLAIN" && translate && p.parseExplain() {
		p.countParams()
		return st
	}
	switch {
	case st.Kind == Session:
		p.parseSession()
	case st.Kind == Copy:
		p.parseCopy()
	case st.Verb == "LOCK" && st.Kind == Write:
		p.parseLock()
	case st.Verb == "SELECT" && (p.isPunct(2, '(') || p.isPunct(4, '(')) && p.word(0) == "select":
		// A call first in the select list: set_config, a sequence or
		// advisory lock function.
		if p.word(1) == "set_config" || p.word(3) == "set_config" {
			p.parseSetConfig()
		} else {
			p.parseCalls()
		}
	case st.Verb == "SELECT" && p.word(0) == "with":
		p.parseCallsAfterSetConfig()
	}
	switch st.Kind {
	case Read, Write, CatalogRead:
		if !translate {
			st.SQL = src
			st.Err = p.err
			break
		}
		if sql, ok := p.deleteUsing(); ok {
			// Parsed again as the DELETE by rowid it became.
			rw := parse(sql, true)
			if rw.Err != nil {
				// Its positions are in the rewrite's text.
				e := *rw.Err
				e.Position = 0
				rw.Err = &e
			}
			rw.Source = src
			return rw
		}
		if sql, types, ok := p.distinctOn(); ok {
			// Parsed again as the window function it became.
			rw := parse(sql, true)
			if rw.Err != nil {
				// The rewrite's positions are in its own text: the source's
				// own translation tells where the source is wrong, if it is.
				p.translate()
				if st.Err == nil {
					e := *rw.Err
					e.Position = 0
					st.Err = &e
				}
				p.countParams()
				return st
			}
			rw.Source = src
			if rw.rare != nil {
				rw.rare.literals = nil // found in the rewrite's text, not in src
			}
			if len(rw.Columns) == len(types) {
				for k, t := range types {
					if rw.Columns[k].Type == "" {
						rw.Columns[k].Type = t
					}
				}
			}
			return rw
		} else if p.err != nil {
			st.Err = p.err
			break
		}
		p.translate()
	default:
		st.SQL = src
		st.Err = p.err
	}
	p.countParams()
	if translate {
		p.literalColumns()
	}
	return st
}

type parser struct {
	src   string
	toks  []token
	words []string // lower-cased words, by token
	st    *Statement
	// weakName: the name nameExpr0 gave is a weak one (names.go).
	weakName bool

	out    []byte
	edited bool // out holds the output; until then it is src[:last]
	last   int  // offset in src copied up to
	prim   int  // offset in out where the last complete primary starts, -1 if none
	primLo int  // token index where it starts
	frames []frame
	err    *Error
	dml    bool       // the statement is DML: current_user and the like are translated
	schema *schemaCtx // the expressions the statement stores in the schema (schemafuncs.go)

	edits   map[int]string // tokens replaced ("" drops them) before translating
	aliases []alias
	holes   []hole // the holes marked in out, by number (zone.go)
	litCap  int    // the string tokens, for Literals' slice (literals.go)

	divisors   []divisor // divisors open in the output, innermost last
	refItems   []bool    // by select-list item: a bare column reference
	seriesCols []Column  // the columns of generate_series in FROM, typed
}

type alias struct {
	after int // token index of the item's last token
	name  string
}

type frameKind uint8

const (
	fParen frameKind = iota
	fCast            // CAST( … AS type)
	fCase            // CASE … END
)

type frame struct {
	kind   frameKind
	start  int    // offset in out where the parenthesised primary starts
	startT int    // its first token
	inner  int    // offset in out just after '('
	closer string // emitted for ')'
}

func (p *parser) text(i int) string {
	if i < 0 || i >= len(p.toks) {
		return ""
	}
	return p.src[p.toks[i].start:p.toks[i].end]
}

func (p *parser) kindAt(i int) tokKind {
	if i < 0 || i >= len(p.toks) {
		return 255
	}
	return p.toks[i].kind
}

// word returns token i lower-cased if it is an unquoted word, else "".
func (p *parser) word(i int) string {
	if p.kindAt(i) != tWord {
		return ""
	}
	if p.words == nil {
		p.words = make([]string, len(p.toks))
		for j, t := range p.toks {
			if t.kind == tWord {
				p.words[j] = lowerWord(p.src[t.start:t.end])
			}
		}
	}
	return p.words[i]
}

func (p *parser) isPunct(i int, c byte) bool {
	return p.kindAt(i) == tPunct && p.src[p.toks[i].start] == c
}

func (p *parser) isOp(i int, op string) bool {
	return p.kindAt(i) == tOp && p.text(i) == op
}

// lower lower-cases ASCII, without allocating for a word already lower-case.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

func (p *parser) fail(code string, tok int, msg string) {
	if p.err != nil {
		return
	}
	pos := 0
	if tok >= 0 && tok < len(p.toks) {
		pos = charPos(p.src, int(p.toks[tok].start))
	}
	p.err = &Error{Code: code, Message: msg, Position: pos}
}

func (p *parser) unsupported(tok int, what string) {
	p.fail("0A000", tok, "not supported: "+what)
}

// classify sets Kind, Verb and the parsed forms that depend on them.
func (p *parser) classify() {
	st := p.st
	i := 0
	for p.isPunct(i, '(') {
		i++
	}
	w := strings.ToUpper(p.text(i))
	if p.kindAt(i) != tWord {
		w = ""
	}
	if w == "WITH" {
		w = p.verbAfterWith(i + 1)
	}
	st.Verb = w
	switch w {
	case "SELECT", "VALUES", "TABLE", "EXPLAIN", "FETCH":
		st.Kind = Read
		if w == "SELECT" && p.selectInto() {
			st.Kind = Write
			st.selectInto = true
		}
		p.dml = true
		if p.namesCatalog() {
			st.Kind = CatalogRead
		}
	case "INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE":
		st.Kind = Write
		p.dml = true
	case "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE":
		st.Kind = TxControl
		st.Tx = p.parseTx()
		if st.Tx.Op == TxNone {
			st.Kind = Write
		}
	case "SET", "RESET", "SHOW", "DISCARD", "PREPARE", "EXECUTE", "DEALLOCATE", "LISTEN", "UNLISTEN", "NOTIFY":
		st.Kind = Session
		switch w {
		case "PREPARE":
			p.parsePrepare()
		case "EXECUTE":
			p.parseExecute()
		}
		st.Err = p.err
	case "COPY":
		st.Kind = Copy
	case "CREATE", "DROP", "ALTER":
		st.Kind = Write
		st.object = p.objectKind()
	default:
		st.Kind = Write
	}
}

// verbAfterWith returns the keyword of the statement after WITH's common
// table expressions.
func (p *parser) verbAfterWith(i int) string {
	depth := 0
	afterParen := false
	for ; i < len(p.toks); i++ {
		switch {
		case p.isPunct(i, '('):
			depth++
			afterParen = false
		case p.isPunct(i, ')'):
			depth--
			afterParen = depth == 0
		case p.kindAt(i) == tWord && depth == 0 && afterParen:
			switch v := strings.ToUpper(p.text(i)); v {
			case "SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "VALUES", "MERGE", "TABLE":
				return v
			}
			afterParen = false
		default:
			afterParen = false
		}
	}
	return "SELECT"
}

// selectInto reports SELECT … INTO, which Postgres tags like CREATE TABLE AS.
func (p *parser) selectInto() bool {
	depth := 0
	for i := range p.toks {
		switch {
		case p.isPunct(i, '('):
			depth++
		case p.isPunct(i, ')'):
			depth--
		case depth == 0 && p.kindAt(i) == tWord:
			switch p.word(i) {
			case "into":
				return true
			case "from", "where", "union":
				return false
			}
		}
	}
	return false
}

// namesCatalog reports a read that names a pg_catalog or
// information_schema relation.
func (p *parser) namesCatalog() bool {
	for i := range p.toks {
		k := p.kindAt(i)
		if k != tWord && k != tQIdent {
			continue
		}
		w := p.word(i)
		if k == tQIdent {
			w = strings.Trim(p.text(i), `"`)
		}
		if strings.EqualFold(w, "pg_catalog") || strings.EqualFold(w, "information_schema") {
			return true
		}
		if len(w) > 3 && strings.EqualFold(w[:3], "pg_") && !p.isPunct(i+1, '(') && !p.isPunct(i-1, '.') {
			return true
		}
	}
	return false
}

// objectKind returns the object of CREATE/DROP/ALTER, past its modifiers.
func (p *parser) objectKind() string {
	for i := 1; i < len(p.toks) && i < 6; i++ {
		w := strings.ToUpper(p.text(i))
		if p.kindAt(i) != tWord {
			break
		}
		switch w {
		case "OR", "REPLACE", "TEMP", "TEMPORARY", "UNIQUE", "VIRTUAL", "UNLOGGED", "GLOBAL", "LOCAL", "MATERIALIZED", "RECURSIVE":
			continue
		case "VIEW":
			if p.word(i-1) == "materialized" {
				return "MATERIALIZED VIEW"
			}
		}
		return w
	}
	return "TABLE"
}

// countParams sets NumParams and the types written for them.
func (p *parser) countParams() {
	st := p.st
	n := 0
	for i, t := range p.toks {
		if t.kind != tParam || !isDigit(p.src[t.start+1]) {
			continue
		}
		v := paramNumber(p.text(i))
		if v > maxParams || v < 0 {
			if st.Err == nil {
				st.Err = &Error{Code: "54000", Message: "too many parameters: at most 65535 are allowed", Position: charPos(p.src, int(t.start))}
			}
			st.NumParams = -1
			return
		}
		n = max(n, v)
	}
	st.NumParams = n
	if n == 0 {
		return
	}
	for i, t := range p.toks {
		if t.kind != tParam || !isDigit(p.src[t.start+1]) {
			continue
		}
		v := paramNumber(p.text(i))
		typ := ""
		switch {
		case p.isOp(i+1, "::"):
			typ, _, _ = p.readType(i + 2)
		case p.isPunct(i-1, '(') && p.word(i-2) == "cast" && p.word(i+1) == "as":
			typ, _, _ = p.readType(i + 2)
		}
		if typ == "" {
			continue
		}
		if st.Params == nil {
			st.Params = make([]Param, n)
		}
		if st.Params[v-1].Type == "" {
			st.Params[v-1].Type = typ
		}
	}
	p.paramColumns(n)
}

func paramNumber(s string) int {
	digits := s[1:]
	if len(digits) > 6 {
		return -1
	}
	v := 0
	for i := 0; i < len(digits); i++ {
		v = v*10 + int(digits[i]-'0')
	}
	return v
}

// parseTx parses a transaction-control statement.
func (p *parser) parseTx() Tx {
	words := make([]string, 0, len(p.toks))
	for i := range p.toks {
		if p.isPunct(i, ',') {
			continue
		}
		words = append(words, p.text(i))
	}
	upper := make([]string, len(words))
	for i, w := range words {
		upper[i] = strings.ToUpper(w)
	}
	switch upper[0] {
	case "BEGIN", "START":
		rest := upper[1:]
		if upper[0] == "START" {
			if len(rest) == 0 || rest[0] != "TRANSACTION" {
				return Tx{}
			}
			rest = rest[1:]
		} else if len(rest) > 0 && (rest[0] == "WORK" || rest[0] == "TRANSACTION") {
			rest = rest[1:]
		}
		c := Tx{Op: TxBegin}
		for len(rest) > 0 {
			switch {
			case rest[0] == "DEFERRED" || rest[0] == "IMMEDIATE" || rest[0] == "EXCLUSIVE":
				rest = rest[1:]
			case rest[0] == "ISOLATION" && len(rest) >= 3 && rest[1] == "LEVEL":
				switch {
				case rest[2] == "SERIALIZABLE":
					c.Isolation = "SERIALIZABLE"
					rest = rest[3:]
				case (rest[2] == "REPEATABLE" && len(rest) >= 4 && rest[3] == "READ") ||
					(rest[2] == "READ" && len(rest) >= 4 && (rest[3] == "COMMITTED" || rest[3] == "UNCOMMITTED")):
					c.Isolation = rest[2] + " " + rest[3]
					rest = rest[4:]
				default:
					return Tx{Op: TxBegin, Unsupported: "unknown isolation level"}
				}
			case rest[0] == "READ" && len(rest) >= 2 && rest[1] == "ONLY":
				c.ReadOnly = true
				rest = rest[2:]
			case rest[0] == "READ" && len(rest) >= 2 && rest[1] == "WRITE":
				c.ReadOnly = false
				rest = rest[2:]
			case rest[0] == "DEFERRABLE":
				rest = rest[1:]
			case rest[0] == "NOT" && len(rest) >= 2 && rest[1] == "DEFERRABLE":
				rest = rest[2:]
			default:
				return Tx{Op: TxBegin, Unsupported: "unrecognised transaction mode " + words[len(words)-len(rest)]}
			}
		}
		return c
	case "COMMIT", "END":
		if len(upper) > 1 && upper[1] != "WORK" && upper[1] != "TRANSACTION" {
			return Tx{Op: TxCommit, Unsupported: "COMMIT " + words[1] + " is not supported"}
		}
		return Tx{Op: TxCommit}
	case "ABORT":
		return Tx{Op: TxRollback}
	case "ROLLBACK":
		rest := upper[1:]
		if len(rest) > 0 && (rest[0] == "WORK" || rest[0] == "TRANSACTION") {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return Tx{Op: TxRollback}
		}
		if rest[0] != "TO" {
			return Tx{Op: TxRollback, Unsupported: "ROLLBACK " + rest[0] + " is not supported"}
		}
		rest = rest[1:]
		if len(rest) > 0 && rest[0] == "SAVEPOINT" {
			rest = rest[1:]
		}
		if len(rest) != 1 {
			return Tx{Op: TxRollbackTo, Unsupported: "ROLLBACK TO needs a savepoint name"}
		}
		return Tx{Op: TxRollbackTo, Name: words[len(words)-1]}
	case "SAVEPOINT":
		if len(words) != 2 {
			return Tx{Op: TxSavepoint, Unsupported: "SAVEPOINT needs a name"}
		}
		return Tx{Op: TxSavepoint, Name: words[1]}
	case "RELEASE":
		rest := words[1:]
		if len(rest) > 0 && strings.EqualFold(rest[0], "SAVEPOINT") {
			rest = rest[1:]
		}
		if len(rest) != 1 {
			return Tx{Op: TxRelease, Unsupported: "RELEASE needs a savepoint name"}
		}
		return Tx{Op: TxRelease, Name: rest[0]}
	}
	return Tx{}
}
