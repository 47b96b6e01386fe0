package catalog

import (
	"fmt"
	"strings"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// Env is what the rewrite of a statement knows of the session that sends
// it: the names that the catalogs and the functions on them report.
type Env struct {
	User     string
	Database string
	PID      uint32 // what pg_backend_pid() answers: the connection's process ID
	// Sequences reports whether the database holds the table of the
	// sequences made with CREATE SEQUENCE, which the catalogs then list
	// (pg_class, pg_sequence, information_schema.sequences); nil: it does
	// not; the column of a sequence's OWNED BY owns it in pg_depend and
	// pg_get_serial_sequence. The rewrite asks at most once, and only for
	// a statement that reads those relations.
	Sequences func() bool
	// Enums reports whether the database holds the table of the enum
	// types made with CREATE TYPE … AS ENUM (enum.go), which pg_type and
	// pg_enum then list and format_type names; nil: it does not. Asked at
	// most once, and only for a statement that reads those.
	Enums func() bool
	// TimeZone, ServerVersion and VersionNum are what pg_settings reports
	// as the session's TimeZone ("": UTC), server_version and
	// server_version_num.
	TimeZone, ServerVersion, VersionNum string
}

// once is env with a Sequences that asks env's at most once.
func (env Env) once() Env {
	f := env.Sequences
	if f == nil {
		return env.onceEnums()
	}
	asked, has := false, false
	env.Sequences = func() bool {
		if !asked {
			asked, has = true, f()
		}
		return has
	}
	return env.onceEnums()
}

// sequences reports whether the relations that list the sequences made
// with CREATE SEQUENCE are to read them.
func (r *rewriter) sequences() bool { return r.env.Sequences != nil && r.env.Sequences() }

// relationText is the SQLite text that reads rel in a FROM clause.
func (r *rewriter) relationText(rel Relation) string {
	text := rel.sqlite
	if rel.session != "" {
		text = "(" + r.expandSession(rel.session) + ")"
	}
	if rel.enumRows != "" && r.enums() {
		text = withEnums(text, rel.enumRows)
	}
	if rel.seqRows != "" && r.sequences() {
		return withSequences(text, r.expandSession(rel.seqRows))
	}
	return text
}

// helper is the SQLite text that reads helper view name: with its rows
// for the sequences made with CREATE SEQUENCE, where it has some.
func (r *rewriter) helper(name string) string {
	if rows, ok := sequenceRows[[2]string{"", name}]; ok && r.sequences() {
		return withSequences(name, rows)
	}
	return name
}

// Error is a statement the rewrite cannot translate. Code is its
// SQLSTATE.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

func notSupported(what string) *Error {
	return &Error{Code: "0A000", Message: what + " is not supported"}
}

// Mentions reports whether sql may name a catalog relation or call a
// catalog function: whether it holds one of the words that start them
// (pg_, information_schema, current_schema and its siblings, session_user,
// version, ::reg…,
// ::oid). Any other statement goes to SQLite as it is, at the cost of
// this one scan of its text, which allocates nothing.
func Mentions(sql string) bool {
	for i := 0; i < len(sql); i++ {
		rest := sql[i:]
		switch sql[i] | 0x20 {
		case 'p':
			if hasPrefixFold(rest, "pg_") {
				return true
			}
		case 'i':
			if hasPrefixFold(rest, "information_schema") {
				return true
			}
		case 'c':
			if hasPrefixFold(rest, "current_") {
				r := rest[len("current_"):]
				if hasPrefixFold(r, "schema") || hasPrefixFold(r, "database") || hasPrefixFold(r, "user") ||
					hasPrefixFold(r, "catalog") || hasPrefixFold(r, "role") {
					return true
				}
			}
		case 's':
			if hasPrefixFold(rest, "session_user") {
				return true
			}
		case 'v':
			if hasPrefixFold(rest, "version") {
				return true
			}
		case ':':
			if hasPrefixFold(rest, "::reg") || hasPrefixFold(rest, "::oid") {
				return true
			}
		}
	}
	return false
}

// hasPrefixFold is strings.HasPrefix, ASCII case-insensitively; prefix is
// in lower case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// Rewrite translates a statement that reads the catalogs or calls the
// functions tools call on them into SQLite SQL over the catalog views.
// ok is false when the statement has nothing of the kind; it then runs as
// it is. A statement that reads the catalogs with a construct the rewrite
// cannot translate fails with a 0A000 *Error naming it.
func Rewrite(sql string, env Env) (out string, ok bool, err error) {
	out, ok, _, err = RewriteTyped(sql, env)
	return out, ok, err
}

// RewriteTyped is Rewrite, and also gives the types of the result columns
// that are aliases, by their names in lower case: a catalog column's whose
// type SQLite does not keep (cons.conkey AS key), else "" (the alias names
// no catalog column). ColumnType gives the others.
func RewriteTyped(sql string, env Env) (out string, ok bool, types map[string]string, err error) {
	if !Mentions(sql) {
		return sql, false, nil, nil
	}
	r := &rewriter{env: env.once()}
	text, exps := r.level(lex(sql))
	if r.err == nil && len(exps) > 0 {
		r.fail(notSupported("a set-returning function outside a FROM clause"))
	}
	if r.err != nil {
		return "", true, nil, r.err
	}
	if !r.touched {
		return sql, false, nil, nil
	}
	r.resolveVia()
	return text, true, r.types, nil
}

type rewriter struct {
	env     Env
	n       int
	touched bool
	err     error
	types   map[string]string
	// via is, for an alias typed by the name of the column it renames,
	// that name (resolveVia).
	via map[string]string
}

// alias notes the type of a result column named alias whose expression,
// before AS, is a catalog column of a type SQLite does not keep.
func (r *rewriter) alias(out []unit, alias string) {
	k := len(out) - 1
	for k >= 0 && out[k].space {
		k--
	}
	if k < 0 || out[k].word != "as" {
		return
	}
	for k--; k >= 0 && out[k].space; k-- {
	}
	if r.types == nil {
		r.types = map[string]string{}
	}
	// An alias of anything else is no catalog column, whatever its name
	// ("Encoding"): "" keeps ColumnType off it.
	typ := ""
	if k >= 0 && out[k].typ != "" {
		typ = out[k].typ
	} else if k >= 0 && out[k].primary && !strings.HasSuffix(out[k].text, ")") {
		src := strings.ToLower(lastName(out[k].text))
		typ = ColumnType(src)
		if src != strings.ToLower(alias) {
			if r.via == nil {
				r.via = map[string]string{}
			}
			r.via[strings.ToLower(alias)] = src
		}
	}
	r.types[strings.ToLower(alias)] = typ
}

// unaliased notes the type of a result column without an alias, by the
// name Postgres gives it (array, array_agg), for a client that parses it
// by its type (psycopg2 reads an array as a list): aliases take theirs
// in alias, and several columns of one name are all arrays.
func (r *rewriter) unaliased(name, typ string) {
	if r.types == nil {
		r.types = map[string]string{}
	}
	if _, ok := r.types[name]; !ok {
		r.types[name] = typ
	}
}

// subqueryArrayType is the type of ARRAY(subquery), toks the subquery:
// the array of its one column's type.
func subqueryArrayType(toks []token) string {
	i := nextSig(toks, 0)
	if i >= len(toks) || !toks[i].is("select") {
		return "_TEXT"
	}
	depth, end := 0, len(toks)
	for j := i + 1; j < len(toks); j++ {
		switch {
		case toks[j].isOp("("):
			depth++
		case toks[j].isOp(")"):
			depth--
		case depth == 0 && toks[j].is("from"):
			end = j
		}
		if end != len(toks) {
			break
		}
	}
	items := splitArgs(toks[i+1 : end])
	if len(items) != 1 {
		return "_TEXT"
	}
	return arrayType(items[0])
}

// resolveVia gives an alias of a column named as an alias elsewhere in the
// statement that alias's type: in SELECT d.condeferred AS deferred FROM
// (SELECT CASE … END AS condeferred …) d, the column is the CASE's text,
// not the catalog's boolean of that name.
func (r *rewriter) resolveVia() {
	for a, src := range r.via {
		if t, ok := r.types[src]; ok {
			r.types[a] = t
		}
	}
}

func (r *rewriter) fail(e *Error) {
	if r.err == nil {
		r.err = e
	}
}

func (r *rewriter) fresh(prefix string) string {
	r.n++
	return fmt.Sprintf("%s%d", prefix, r.n)
}

// unit is a piece of the output: a primary expression (a name, literal,
// call or parenthesised group), which a cast, subscript or field access
// applies to, or anything else.
type unit struct {
	text    string
	primary bool
	space   bool
	word    string // lower-cased, for a keyword
	// expand is the alias of the json_each that stands for the
	// _pg_expandarray call this group holds.
	expand string
	// typ is the declared type of a call's result a client reads by it
	// (array_agg's array), else "".
	typ string
	// reg is the type of a cast to regclass, regtype or regnamespace,
	// whose text is then the OID and name the SQLite text of the name
	// Postgres shows for it (regcast.go); sel whether the cast is in a
	// select list.
	reg, name string
	sel       bool
}

// expansion is a set-returning call in a select list, joined to its
// SELECT's FROM clause instead.
type expansion struct {
	alias, expr string
}

// clauseEnds end a FROM clause.
var clauseEnds = map[string]bool{"where": true, "group": true, "having": true, "order": true, "limit": true,
	"union": true, "except": true, "intersect": true, "window": true, "offset": true, "fetch": true, "for": true}

// notAlias are the words that can follow a relation in FROM without being
// its alias.
var notAlias = map[string]bool{"where": true, "join": true, "left": true, "right": true, "inner": true, "outer": true,
	"cross": true, "full": true, "natural": true, "on": true, "using": true, "group": true, "order": true, "limit": true,
	"offset": true, "having": true, "union": true, "except": true, "intersect": true, "window": true, "fetch": true,
	"for": true, "returning": true, "set": true, "values": true}

// arrayList reports whether toks are ARRAY[…] with elements, alone, and
// gives the elements' tokens.
func arrayList(toks []token) ([][]token, bool) {
	a := nextSig(toks, 0)
	if a >= len(toks) || !toks[a].is("array") {
		return nil, false
	}
	b := nextSig(toks, a+1)
	if b >= len(toks) || !toks[b].isOp("[") {
		return nil, false
	}
	k := matching(toks, b)
	if k < 0 || nextSig(toks, k+1) < len(toks) || nextSig(toks, b+1) == k {
		return nil, false
	}
	return splitArgs(toks[b+1 : k]), true
}

// matching returns the index of the token closing the bracket at i.
func matching(toks []token, i int) int {
	open, close := toks[i].text, map[string]string{"(": ")", "[": "]"}[toks[i].text]
	depth := 0
	for j := i; j < len(toks); j++ {
		if toks[j].kind != tOp {
			continue
		}
		switch toks[j].text {
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// nextSig returns the index of the first token at or after i that is not
// space, or len(toks).
func nextSig(toks []token, i int) int {
	for i < len(toks) && toks[i].kind == tSpace {
		i++
	}
	return i
}

// splitArgs splits tokens at their top-level commas.
func splitArgs(toks []token) [][]token {
	var out [][]token
	depth, start := 0, 0
	for i, t := range toks {
		if t.kind != tOp {
			continue
		}
		switch t.text {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
		case ",":
			if depth == 0 {
				out = append(out, toks[start:i])
				start = i + 1
			}
		}
	}
	if start < len(toks) || len(out) > 0 {
		out = append(out, toks[start:])
	}
	if len(out) == 1 && nextSig(out[0], 0) == len(out[0]) {
		return nil
	}
	return out
}

// level rewrites a run of tokens at one depth of parentheses. It returns
// the expansions it did not join to a FROM clause of its own.
func (r *rewriter) level(toks []token) (string, []expansion) {
	var out []unit
	var exps []expansion
	fromSeen, fromCtx, fromEnd, fromOpen := false, false, -1, false
	// selCtx: in a select list whose columns' types are its own (not
	// after UNION, whose first SELECT types them).
	selCtx, setOp := false, false
	lastSig := func() int {
		for k := len(out) - 1; k >= 0; k-- {
			if !out[k].space {
				return k
			}
		}
		return -1
	}
	prevWord := func() string {
		if k := lastSig(); k >= 0 {
			if out[k].word != "" {
				return out[k].word
			}
			return out[k].text
		}
		return ""
	}
	// operand removes the primary before the current token from out and
	// returns it.
	operand := func(what string) (unit, bool) {
		k := lastSig()
		if k < 0 || !out[k].primary {
			r.fail(notSupported(what + " after this expression"))
			return unit{}, false
		}
		u := out[k]
		out = out[:k]
		return u, true
	}
	addExp := func(e []expansion) {
		for _, x := range e {
			dup := false
			for _, y := range exps {
				dup = dup || y.alias == x.alias
			}
			if !dup {
				exps = append(exps, x)
			}
		}
	}
	for i := 0; i < len(toks) && r.err == nil; i++ {
		t := toks[i]
		switch t.kind {
		case tSpace:
			out = append(out, unit{text: t.text, space: true})
			continue
		case tString, tNumber, tParam, tQIdent:
			if t.kind == tString {
				// 'f' compared with a boolean column: SQLite's booleans
				// are 1 and 0.
				v := strings.ToLower(stringValue(t))
				if b, isBool := map[string]string{"t": "1", "true": "1", "f": "0", "false": "0"}[v]; isBool {
					if k := lastSig(); k > 0 && comparison[out[k].text] {
						l := k - 1
						for l >= 0 && out[l].space {
							l--
						}
						if l >= 0 && out[l].primary && boolColumns[lastName(out[l].text)] {
							out = append(out, unit{text: b, primary: true})
							r.touched = true
							continue
						}
					}
				}
			}
			if t.kind == tString && isDigits(stringValue(t)) {
				// 'OID' compared with an OID column: Postgres reads the
				// literal as an oid; SQLite would compare text with an
				// integer and find them different.
				if k := lastSig(); k > 0 && comparison[out[k].text] {
					l := k - 1
					for l >= 0 && out[l].space {
						l--
					}
					if l >= 0 && out[l].primary && oidColumn(out[l].text) {
						out = append(out, unit{text: stringValue(t), primary: true})
						r.touched = true
						continue
					}
				}
			}
			if t.kind == tString {
				// 'name' compared with a regclass or regtype: the
				// literal is one too.
				if k := lastSig(); k > 0 && comparison[out[k].text] {
					l := k - 1
					for l >= 0 && out[l].space {
						l--
					}
					if l >= 0 && out[l].reg != "" {
						out = append(out, r.castUnit(unit{text: t.text, primary: true}, out[l].reg))
						continue
					}
				}
			}
			if t.kind == tQIdent {
				if j, u, ok := r.name(toks, i, fromCtx && isFromStart(prevWord())); ok {
					out = append(out, u)
					i = j
					continue
				}
			}
			if t.kind == tQIdent {
				r.alias(out, unquote(t))
				j, text := chain(toks, i)
				out = append(out, unit{text: text, primary: true})
				i = j
				continue
			}
			out = append(out, unit{text: t.text, primary: true})
			continue
		}
		if t.kind == tIdent {
			w := strings.ToLower(t.text)
			switch {
			case w == "select":
				fromCtx, selCtx = false, !setOp
			case w == "from" && prevWord() != "distinct":
				fromSeen, fromCtx, fromOpen, selCtx = true, true, true, false
				fromEnd = -1
			case w == "into":
				selCtx = false
			case w == "join":
				fromCtx = true
			case clauseEnds[w]:
				selCtx = false
				setOp = setOp || w == "union" || w == "except" || w == "intersect"
				if fromOpen {
					fromEnd, fromOpen = len(out), false
				}
				fromCtx = false
			case w == "on":
				fromCtx = false
			}
			switch w {
			case "operator":
				// OPERATOR(pg_catalog.~) is the operator ~.
				j := nextSig(toks, i+1)
				if j < len(toks) && toks[j].isOp("(") {
					if k := matching(toks, j); k > 0 {
						inner := toks[j+1 : k]
						if n := len(inner); n > 0 && inner[n-1].kind == tOp {
							r.touched = true
							toks = append(append(append([]token(nil), toks[:i]...), inner[n-1]), toks[k+1:]...)
							i--
							continue
						}
					}
				}
			case "collate":
				j := nextSig(toks, i+1)
				if j < len(toks) && (toks[j].is("pg_catalog") || toks[j].kind == tQIdent && unquote(toks[j]) == "default") {
					k := j
					if toks[j].is("pg_catalog") {
						k = nextSig(toks, j+1)
						if k < len(toks) && toks[k].isOp(".") {
							k = nextSig(toks, k+1)
						}
					}
					if k < len(toks) && unquote(toks[k]) == "default" {
						r.touched = true
						i = k
						continue
					}
				}
			case "ilike":
				out = append(out, unit{text: "LIKE", word: "like"})
				continue
			case "array":
				j := nextSig(toks, i+1)
				if j < len(toks) && toks[j].isOp("(") {
					k := matching(toks, j)
					if k < 0 {
						break
					}
					inner, e := r.level(toks[j+1 : k])
					addExp(e)
					a := r.fresh("_pg_a")
					typ := subqueryArrayType(toks[j+1 : k])
					r.unaliased("array", typ)
					out = append(out, unit{primary: true, typ: typ, text: fmt.Sprintf("(WITH %s(v) AS (%s) SELECT '{' || ifnull(group_concat(v, ','), '') || '}' FROM %s)", a, inner, a)})
					r.touched = true
					i = k
					continue
				}
				if j < len(toks) && toks[j].isOp("[") {
					k := matching(toks, j)
					if k < 0 {
						break
					}
					// The array's text form, as the catalogs keep theirs.
					text := "'{}'"
					if nextSig(toks, j+1) < k {
						var elems []string
						for _, a := range splitArgs(toks[j+1 : k]) {
							e, x := r.level(a)
							addExp(x)
							elems = append(elems, "_pg_array_elem("+strings.TrimSpace(e)+")")
						}
						text = "('{' || " + strings.Join(elems, " || ',' || ") + " || '}')"
					}
					out = append(out, unit{primary: true, text: text})
					r.touched = true
					i = k
					continue
				}
			case "any", "some", "all":
				// x = ANY (array) and x <> ALL (array).
				k := lastSig()
				j := nextSig(toks, i+1)
				if k >= 0 && (out[k].text == "=" || out[k].text == "<>" || out[k].text == "!=") && j < len(toks) && toks[j].isOp("(") {
					m := matching(toks, j)
					if m < 0 {
						break
					}
					op := out[k].text
					out = out[:k]
					lhs, ok := operand("= ANY")
					if !ok {
						continue
					}
					first := nextSig(toks, j+1)
					if list, isList := arrayList(toks[j+1 : m]); isList && w != "all" {
						// x = ANY (ARRAY[a, b]), as pg_dump writes
						// it: x IN (a, b).
						var elems []string
						for _, a := range list {
							e, x := r.level(a)
							addExp(x)
							elems = append(elems, strings.TrimSpace(e))
						}
						if op != "=" {
							// x <> ANY (ARRAY[…]) is not x NOT IN.
							r.fail(notSupported("ANY with " + op))
							continue
						}
						r.touched = true
						out = append(out, unit{text: fmt.Sprintf("(%s IN (%s))", lhs.text, strings.Join(elems, ", ")), primary: true})
						i = m
						continue
					}
					inner, e := r.level(toks[j+1 : m])
					addExp(e)
					sub := first < m && (toks[first].is("select") || toks[first].is("with") || toks[first].is("values"))
					var text string
					switch {
					case sub && op == "=":
						text = fmt.Sprintf("%s IN (%s)", lhs.text, inner)
					case sub:
						text = fmt.Sprintf("%s NOT IN (%s)", lhs.text, inner)
					case op == "=" && w != "all":
						text = fmt.Sprintf("_pg_array_contains(%s, %s)", inner, lhs.text)
					case op != "=" && w == "all":
						text = fmt.Sprintf("NOT _pg_array_contains(%s, %s)", inner, lhs.text)
					default:
						r.fail(notSupported(strings.ToUpper(w) + " with " + op))
						continue
					}
					r.touched = true
					out = append(out, unit{text: "(" + text + ")", primary: true})
					i = m
					continue
				}
			case "trim":
				// trim(both 'x' from y): SQLite's trim(y, 'x').
				j := nextSig(toks, i+1)
				if j < len(toks) && toks[j].isOp("(") {
					if m := matching(toks, j); m > 0 {
						a := nextSig(toks, j+1)
						if a < m && (toks[a].is("both") || toks[a].is("leading") || toks[a].is("trailing")) {
							fn := map[string]string{"both": "trim", "leading": "ltrim", "trailing": "rtrim"}[strings.ToLower(toks[a].text)]
							from := -1
							for f := a + 1; f < m; f++ {
								if toks[f].is("from") {
									from = f
									break
								}
							}
							if from > 0 {
								chars, _ := r.level(toks[a+1 : from])
								src, e := r.level(toks[from+1 : m])
								addExp(e)
								out = append(out, unit{primary: true, text: fmt.Sprintf("%s(%s, %s)", fn, src, chars)})
								i = m
								continue
							}
						}
					}
				}
			}
			if j, u, ok := r.name(toks, i, fromCtx && isFromStart(prevWord())); ok {
				if u.expand != "" {
					addExp([]expansion{{alias: u.expand, expr: u.word}})
					u.word = ""
					if !strings.HasSuffix(u.text, ".value") {
						u.expand = ""
					}
				}
				out = append(out, u)
				i = j
				continue
			}
			r.alias(out, w)
			if (sqliteReserved[w] || pgsql.SQLiteKeyword(w)) && prevWord() == "as" {
				// Postgres takes any word as a column alias; SQLite not
				// its keywords.
				out = append(out, unit{text: quoteIdent(w), primary: true})
				r.touched = true
				continue
			}
			if keyword[w] {
				out = append(out, unit{text: t.text, word: w})
			} else {
				j, text := chain(toks, i)
				out = append(out, unit{text: text, primary: true})
				i = j
			}
			continue
		}
		// Operators and punctuation.
		switch t.text {
		case "(":
			k := matching(toks, i)
			if k < 0 {
				out = append(out, unit{text: t.text})
				continue
			}
			inner, e := r.level(toks[i+1 : k])
			u := unit{text: "(" + inner + ")", primary: true}
			if len(e) == 1 && strings.TrimSpace(inner) == e[0].alias+".value" {
				u.expand = e[0].alias
			}
			addExp(e)
			out = append(out, u)
			i = k
		case ".":
			// A field of a composite value: (x).name.
			j := nextSig(toks, i+1)
			k := lastSig()
			if k >= 0 && out[k].primary && strings.HasSuffix(out[k].text, ")") && j < len(toks) && toks[j].kind == tIdent {
				u := out[k]
				field := strings.ToLower(toks[j].text)
				switch {
				case u.expand != "" && field == "n":
					u.text = "(" + u.expand + ".key + 1)"
				case u.expand != "" && field == "x":
					u.text = u.expand + ".value"
				}
				u.expand = ""
				out[k] = u
				r.touched = true
				i = j
				continue
			}
			out = append(out, unit{text: t.text})
		case "::":
			arg, ok := operand("::")
			if !ok {
				continue
			}
			typ, j := castType(toks, i+1)
			if typ == "" {
				r.fail(&Error{Code: "42601", Message: "syntax error at or near \"::\""})
				continue
			}
			r.touched = true
			u := r.castUnit(arg, typ)
			u.sel = selCtx
			out = append(out, u)
			i = j - 1
		case "[":
			k := matching(toks, i)
			arg, ok := operand("a subscript")
			if !ok || k < 0 {
				continue
			}
			idx, e := r.level(toks[i+1 : k])
			addExp(e)
			if strings.Contains(idx, ":") {
				r.fail(notSupported("an array slice"))
				continue
			}
			r.touched = true
			out = append(out, unit{text: fmt.Sprintf("_pg_array_get(%s, %s)", arg.text, idx), primary: true})
			i = k
		case "~", "!~", "~*", "!~*":
			k := lastSig()
			if k < 0 || !out[k].primary {
				out = append(out, unit{text: t.text})
				continue
			}
			r.touched = true
			text := map[string]string{"~": "REGEXP", "!~": "NOT REGEXP", "~*": "REGEXP '(?i)' ||", "!~*": "NOT REGEXP '(?i)' ||"}[t.text]
			out = append(out, unit{text: " " + text + " ", word: "regexp"})
		default:
			out = append(out, unit{text: t.text})
		}
	}
	if fromSeen && len(exps) > 0 {
		var b strings.Builder
		for _, x := range exps {
			fmt.Fprintf(&b, " , json_each(_pg_array_json(%s)) AS %s ", x.expr, x.alias)
		}
		at := len(out)
		if fromEnd >= 0 {
			at = fromEnd
		}
		out = append(out[:at], append([]unit{{text: b.String()}}, out[at:]...)...)
		exps = nil
	}
	showRegNames(out)
	var b strings.Builder
	for _, u := range out {
		b.WriteString(u.text)
	}
	return b.String(), exps
}

func isFromStart(prev string) bool { return prev == "from" || prev == "join" || prev == "," }

// keyword are the words that are never a primary expression.
var keyword = map[string]bool{"select": true, "from": true, "where": true, "and": true, "or": true, "not": true,
	"in": true, "is": true, "like": true, "between": true, "case": true, "when": true, "then": true, "else": true,
	"end": true, "as": true, "on": true, "join": true, "left": true, "right": true, "inner": true, "outer": true,
	"cross": true, "full": true, "group": true, "by": true, "order": true, "having": true, "limit": true,
	"offset": true, "union": true, "all": true, "distinct": true, "asc": true, "desc": true, "nulls": true,
	"first": true, "last": true, "with": true, "recursive": true, "exists": true, "escape": true, "using": true,
	"natural": true, "except": true, "intersect": true, "over": true, "partition": true, "filter": true,
	"window": true, "glob": true, "regexp": true, "match": true, "collate": true, "values": true, "set": true}

// name handles a name at toks[i]: a relation of the catalogs (qualified,
// or unqualified in a FROM clause), a function call, or a name the
// session answers (current_user). It returns the index of the last token
// it used.
func (r *rewriter) name(toks []token, i int, tablePos bool) (int, unit, bool) {
	if toks[i].kind == tIdent && keyword[strings.ToLower(toks[i].text)] {
		return 0, unit{}, false
	}
	parts := []token{toks[i]}
	j := i
	for {
		d := nextSig(toks, j+1)
		if d >= len(toks) || !toks[d].isOp(".") {
			break
		}
		n := nextSig(toks, d+1)
		if n >= len(toks) || toks[n].kind != tIdent && toks[n].kind != tQIdent {
			break
		}
		parts = append(parts, toks[n])
		j = n
	}
	call := nextSig(toks, j+1)
	isCall := call < len(toks) && toks[call].isOp("(") && parts[len(parts)-1].kind == tIdent
	if isCall {
		schema := ""
		if len(parts) == 2 {
			schema = unquote(parts[0])
		}
		if len(parts) > 2 || schema != "" && schema != "pg_catalog" && schema != "information_schema" {
			return 0, unit{}, false
		}
		end := matching(toks, call)
		if end < 0 {
			return 0, unit{}, false
		}
		fname := strings.ToLower(parts[len(parts)-1].text)
		args := splitArgs(toks[call+1 : end])
		u, next, ok := r.call(schema, fname, args, toks, end, tablePos)
		if !ok {
			if schema == "" {
				return 0, unit{}, false
			}
			// pg_catalog.lower(x) is SQLite's lower(x).
			r.touched = true
			inner, _ := r.level(toks[call+1 : end])
			return end, unit{text: parts[len(parts)-1].text + "(" + inner + ")", primary: true}, true
		}
		r.touched = true
		return next, u, true
	}
	if len(parts) == 1 && parts[0].kind == tIdent {
		prev := i - 1
		for prev >= 0 && toks[prev].kind == tSpace {
			prev--
		}
		if prev >= 0 && toks[prev].isOp(".") {
			return 0, unit{}, false
		}
		switch strings.ToLower(parts[0].text) {
		case "current_user", "session_user", "current_role":
			r.touched = true
			return i, unit{text: quoteString(r.env.User), primary: true}, true
		case "current_catalog":
			r.touched = true
			return i, unit{text: quoteString(r.env.Database), primary: true}, true
		case "current_schema":
			r.touched = true
			return i, unit{text: "'public'", primary: true}, true
		}
	}
	var schema, rel string
	switch {
	case len(parts) == 2:
		schema, rel = unquote(parts[0]), unquote(parts[1])
	case len(parts) == 1 && tablePos:
		rel = unquote(parts[0])
	default:
		return 0, unit{}, false
	}
	if !tablePos && len(parts) == 2 && schema != "pg_catalog" && schema != "information_schema" {
		return 0, unit{}, false
	}
	if !tablePos && schema == "pg_catalog" {
		if _, found := Resolve(schema, rel); !found {
			// A type, as in CAST(x AS pg_catalog.text).
			r.touched = true
			return j, unit{text: parts[1].text, primary: true}, true
		}
	}
	text, ok := r.relation(schema, rel)
	if !ok {
		return 0, unit{}, false
	}
	r.touched = true
	// A relation that becomes a subquery or another name keeps the name
	// its columns are qualified with.
	a := nextSig(toks, j+1)
	if a >= len(toks) || !(toks[a].is("as") || toks[a].kind == tQIdent || toks[a].kind == tIdent && !notAlias[strings.ToLower(toks[a].text)]) {
		text += " AS " + quoteIdent(rel)
	}
	return j, unit{text: text, primary: true}, true
}

// relation is the SQLite text that reads the catalog relation schema.name
// ("" schema: through the search path), if there is one.
func (r *rewriter) relation(schema, name string) (string, bool) {
	switch schema {
	case "public":
		return "main." + quoteIdent(name), true
	case "", "pg_catalog", "information_schema":
	default:
		return "", false
	}
	rel, ok := Resolve(schema, name)
	if !ok {
		if schema == "" {
			return "", false
		}
		// SQLite then reports the relation missing, as 42P01.
		return quoteIdent(schema + "." + name), true
	}
	return r.relationText(rel), true
}

func (r *rewriter) expandSession(sql string) string {
	tz := r.env.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	return strings.NewReplacer("{{user}}", quoteString(r.env.User), "{{db}}", quoteString(r.env.Database),
		"{{timezone}}", strings.ReplaceAll(tz, "'", "''"), "{{version}}", r.env.ServerVersion,
		"{{version_num}}", r.env.VersionNum).Replace(sql)
}

// castType reads the type of a cast from toks[i:]; it returns the type in
// lower case ("" if none) and the index after it.
func castType(toks []token, i int) (string, int) {
	j := nextSig(toks, i)
	if j >= len(toks) || toks[j].kind != tIdent && toks[j].kind != tQIdent {
		return "", i
	}
	if toks[j].is("pg_catalog") {
		d := nextSig(toks, j+1)
		if d < len(toks) && toks[d].isOp(".") {
			j = nextSig(toks, d+1)
			if j >= len(toks) {
				return "", i
			}
		}
	}
	typ := unquote(toks[j])
	end := j + 1
	// Types of several words.
	for {
		n := nextSig(toks, end)
		if n < len(toks) && toks[n].kind == tIdent {
			w := strings.ToLower(toks[n].text)
			if (typ == "double" && w == "precision") || (typ == "character" && w == "varying") ||
				((strings.HasPrefix(typ, "timestamp") || strings.HasPrefix(typ, "time")) && (w == "with" || w == "without")) ||
				(strings.HasSuffix(typ, "with") || strings.HasSuffix(typ, "without")) && w == "time" ||
				strings.HasSuffix(typ, "time") && w == "zone" && strings.Contains(typ, " ") {
				typ += " " + w
				end = n + 1
				continue
			}
		}
		break
	}
	n := nextSig(toks, end)
	if n < len(toks) && toks[n].isOp("(") {
		if k := matching(toks, n); k > 0 {
			end = k + 1
		}
	}
	for {
		n := nextSig(toks, end)
		if n+1 < len(toks) && toks[n].isOp("[") && toks[nextSig(toks, n+1)].isOp("]") {
			typ += "[]"
			end = nextSig(toks, n+1) + 1
			continue
		}
		break
	}
	return typ, end
}

// cast is arg::typ in SQLite.
func (r *rewriter) cast(arg, typ string) string {
	switch {
	case strings.HasSuffix(typ, "[]"), typ == "int2vector", typ == "oidvector", typ == "aclitem":
		return arg
	}
	switch typ {
	case "regproc", "regprocedure", "regoper", "regrole", "regconfig":
		return arg
	case "oid", "int", "int2", "int4", "int8", "integer", "bigint", "smallint", "xid", "cid", "tid":
		return "CAST(" + arg + " AS INTEGER)"
	case "text", "name", "varchar", "char", "bpchar", "character varying", "character", "unknown":
		return "CAST(" + arg + " AS TEXT)"
	case "bool", "boolean":
		return "_pg_bool(" + arg + ")"
	case "float4", "float8", "real", "double precision", "float":
		return "CAST(" + arg + " AS REAL)"
	case "numeric", "decimal":
		return "CAST(" + arg + " AS NUMERIC)"
	}
	return arg
}

// chain reads a dotted name (t.col, "s"."t".col) starting at toks[i]; it
// returns the index of its last token and its text.
func chain(toks []token, i int) (int, string) {
	var b strings.Builder
	b.WriteString(toks[i].text)
	j := i
	for {
		d := nextSig(toks, j+1)
		if d >= len(toks) || !toks[d].isOp(".") {
			break
		}
		n := nextSig(toks, d+1)
		if n >= len(toks) || toks[n].kind != tIdent && toks[n].kind != tQIdent && !toks[n].isOp("*") {
			break
		}
		b.WriteString(".")
		b.WriteString(toks[n].text)
		j = n
	}
	return j, b.String()
}

var comparison = map[string]bool{"=": true, "<>": true, "!=": true, "<": true, ">": true, "<=": true, ">=": true}

// oidColumn reports whether a (qualified) column name is one of the
// catalogs' OID columns.
func oidColumn(name string) bool {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToLower(strings.Trim(name, `"`))
	return strings.HasSuffix(name, "oid") || strings.HasSuffix(name, "relid") || strings.HasSuffix(name, "objid") ||
		strings.HasSuffix(name, "classid") || strings.HasSuffix(name, "namespace") || strings.HasSuffix(name, "typid") ||
		name == "inhparent" || name == "ev_class" || name == "typelem" || name == "oid"
}

// sqliteReserved are words SQLite does not take as a column alias.
var sqliteReserved = map[string]bool{"default": true, "order": true, "group": true, "table": true, "index": true,
	"check": true, "values": true, "select": true, "from": true, "where": true, "column": true, "constraint": true,
	"references": true, "primary": true, "unique": true, "foreign": true, "key": false, "transaction": true,
	"limit": true, "offset": true, "to": true, "into": true, "join": true, "on": true, "using": true, "set": true,
	"all": true, "and": true, "or": true, "not": true, "in": true, "is": true, "null": true, "case": true}

func lastName(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return strings.ToLower(strings.Trim(name, `"`))
}
