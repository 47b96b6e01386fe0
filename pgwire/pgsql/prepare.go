package pgsql

import (
	"strconv"
	"strings"
)

// PREPARE and EXECUTE as SQL statements (the simple protocol's prepared
// statements, which psql scripts and some drivers send). The front end
// parses them; the session keeps the prepared statements, in one
// namespace with the protocol's, and runs an EXECUTE as the prepared
// statement with its arguments in place of the $n (Bind), parsed like any
// statement: an EXECUTE of a write is a write, of a read a read.

// Prepare is a parsed PREPARE name [(type, …)] AS statement.
type Prepare struct {
	Name  string   // folded as Postgres folds names
	Types []string // the parameter types written, as the front end names them
	// Body is the statement prepared, and BodyOffset its byte offset in
	// the PREPARE's text.
	Body       string
	BodyOffset int
}

// Execute is a parsed EXECUTE name [(argument, …)].
type Execute struct {
	Name string
	Args []string // each argument's text, as written
}

// preparable are the statements PREPARE takes, as Postgres does.
var preparable = map[string]bool{"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true,
	"VALUES": true, "MERGE": true, "TABLE": true}

// parsePrepare parses PREPARE; the statement is the body's to run.
func (p *parser) parsePrepare() {
	i := 1
	name, ok := p.name(i)
	if !ok {
		p.syntaxAt(i)
		return
	}
	pr := &Prepare{Name: name}
	i++
	if p.isPunct(i, '(') {
		i++
		for {
			typ, _, next := p.readType(i)
			if typ == "" {
				p.syntaxAt(i)
				return
			}
			pr.Types = append(pr.Types, typ)
			i = next
			if p.isPunct(i, ',') {
				i++
				continue
			}
			if !p.isPunct(i, ')') {
				p.syntaxAt(i)
				return
			}
			i++
			break
		}
	}
	if p.word(i) != "as" || i+1 >= len(p.toks) {
		p.syntaxAt(i)
		return
	}
	i++
	pr.BodyOffset = int(p.toks[i].start)
	pr.Body = p.src[pr.BodyOffset:p.toks[len(p.toks)-1].end]
	verb := strings.ToUpper(p.text(i))
	if verb == "WITH" || verb == "(" {
		verb = Parse(pr.Body).Verb
	}
	if !preparable[verb] {
		p.syntaxAt(i)
		return
	}
	p.st.Prepare = pr
}

// parseExecute parses EXECUTE.
func (p *parser) parseExecute() {
	name, ok := p.name(1)
	if !ok {
		p.syntaxAt(1)
		return
	}
	ex := &Execute{Name: name}
	i := 2
	if p.isPunct(i, '(') {
		depth, from := 0, i+1
		for j := i; ; j++ {
			if j >= len(p.toks) {
				p.fail("42601", len(p.toks)-1, "syntax error at end of input")
				return
			}
			switch {
			case p.isPunct(j, '(') || p.isPunct(j, '['):
				depth++
				continue
			case p.isPunct(j, ')') || p.isPunct(j, ']'):
				depth--
				if depth > 0 {
					continue
				}
			case depth == 1 && p.isPunct(j, ','):
			default:
				continue
			}
			if j == from {
				if depth == 0 && len(ex.Args) == 0 {
					i = j + 1 // EXECUTE p()
					break
				}
				p.syntaxAt(j)
				return
			}
			ex.Args = append(ex.Args, p.src[p.toks[from].start:p.toks[j-1].end])
			from = j + 1
			if depth == 0 {
				i = j + 1
				break
			}
		}
	}
	if i < len(p.toks) {
		p.syntaxAt(i)
		return
	}
	p.st.Execute = ex
}

// name returns the name at token i, folded as Postgres folds it.
func (p *parser) name(i int) (string, bool) {
	switch p.kindAt(i) {
	case tWord:
		return p.word(i), true
	case tQIdent:
		return identName(p.text(i)), true
	}
	return "", false
}

func (p *parser) syntaxAt(i int) {
	if i >= len(p.toks) {
		p.fail("42601", len(p.toks)-1, "syntax error at end of input")
		if p.err != nil {
			p.err.Position = charPos(p.src, len(p.src))
		}
		return
	}
	p.fail("42601", i, "syntax error at or near "+strconv.Quote(p.text(i)))
}

// Bind returns the text of a prepared statement's body with each $n in
// it replaced by the n-th argument (parenthesised, and cast to the n-th
// type when one is given), for the statement an EXECUTE runs. An argument
// may itself use the EXECUTE's own $n.
func Bind(body string, types, args []string) string {
	var b strings.Builder
	last := 0
	for _, t := range lex(body, nil) {
		if t.kind != tParam || !isDigit(body[t.start+1]) {
			continue
		}
		n := paramNumber(body[t.start:t.end])
		if n < 1 || n > len(args) {
			continue
		}
		b.WriteString(body[last:t.start])
		b.WriteString("(" + args[n-1] + ")")
		if n <= len(types) && types[n-1] != "" {
			b.WriteString("::" + types[n-1])
		}
		last = int(t.end)
	}
	if last == 0 {
		return body
	}
	b.WriteString(body[last:])
	return b.String()
}

// InsertTable reports, for an INSERT INTO name VALUES … without a column
// list, the table's name as SQLite reads it (qualifiers kept), the byte
// offset in Source after it, where WithColumns puts the list, and the
// number of items in the first row, the columns they fill: the front
// end refuses DEFAULT in such a statement, since it does not know the
// table's columns, and a caller that does can name them.
func (s *Statement) InsertTable() (table string, at, items int, ok bool) {
	if s.Verb != "INSERT" {
		return "", 0, 0, false
	}
	var buf [32]token
	toks := buf[:0]
	for _, t := range lex(s.Source, nil) {
		if t.kind != tComment {
			toks = append(toks, t)
		}
	}
	text := func(i int) string {
		if i >= len(toks) {
			return ""
		}
		return s.Source[toks[i].start:toks[i].end]
	}
	i := 0
	for i < len(toks) && !strings.EqualFold(text(i), "into") {
		i++
	}
	i++
	first := i
	for i+2 < len(toks) && text(i+1) == "." {
		i += 2
	}
	if i >= len(toks) || (toks[i].kind != tWord && toks[i].kind != tQIdent) || !strings.EqualFold(text(i+1), "values") ||
		text(i+2) != "(" {
		return "", 0, 0, false
	}
	// The items of the first row.
	depth := 0
	for j := i + 2; j < len(toks); j++ {
		switch text(j) {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return s.Source[toks[first].start:toks[i].end], int(toks[i].end), items + 1, true
			}
		case ",":
			if depth == 1 {
				items++
			}
		}
	}
	return "", 0, 0, false
}

// WithColumns returns Source with the column list cols put in at at (from
// InsertTable).
func (s *Statement) WithColumns(at int, cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = quoteIdent(c)
	}
	return s.Source[:at] + " (" + strings.Join(q, ", ") + ")" + s.Source[at:]
}
