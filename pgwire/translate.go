package pgwire

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// This file rewrites Postgres DDL habits that clients send on their own
// (pgbench -i, schema tools) into statements of the plainer form every SQL
// engine takes, one object per statement:
//
//   - DROP TABLE|VIEW|INDEX [IF EXISTS] a, b [CASCADE|RESTRICT]: one DROP each;
//   - TRUNCATE [TABLE] [ONLY] a, b [RESTART|CONTINUE IDENTITY] [CASCADE|RESTRICT]:
//     DELETE FROM each;
//   - CREATE TABLE … WITH (storage parameters): without them;
//   - CREATE TABLE with SERIAL or identity columns (serial.go);
//   - ALTER TABLE t ADD [CONSTRAINT c] PRIMARY KEY|UNIQUE (columns): a
//     unique index named as Postgres names the constraint's;
//   - CREATE [UNIQUE] INDEX [CONCURRENTLY] … ON [ONLY] t USING btree|hash
//     (…): without CONCURRENTLY, ONLY and the access method, since SQLite
//     has one kind of index;
//   - ALTER TABLE|SEQUENCE|VIEW|INDEX|SCHEMA|DATABASE|FUNCTION|TYPE …
//     OWNER TO r, COMMENT ON … IS …: accepted and dropped, as raftsql has
//     no owners and keeps no comments (pg_dump writes both);
//   - CREATE TYPE … AS ENUM, DROP TYPE: rows of raftsql_enums, and the
//     CHECK constraint of a column of such a type (enum.go);
//   - CREATE|ALTER|DROP SEQUENCE: rows of raftsql_sequences (sequence.go);
//     a serial's sequence, TABLE_COLUMN_seq, is the column's numbering
//     (serialseq.go);
//   - CREATE SCHEMA IF NOT EXISTS public (Drizzle's migrator sends it):
//     accepted and dropped, since the schema is there; any other schema
//     is refused with 0A000 (raftsql has one schema);
//   - CREATE EXTENSION [IF NOT EXISTS] of an extension Postgres 15 has
//     built in or raftsql provides (plpgsql, pgcrypto): accepted and
//     dropped; any other is refused with 0A000.
//
// Several statements run together, inside the session's transaction block
// or one of their own, so the command is all or nothing.

// The rewriting reads the statement's tokens, from the front end's lexer
// (pgsql.Tokens), as tokenList.

type tokKind = pgsql.TokenKind

const (
	tkWord   = pgsql.TokWord
	tkQIdent = pgsql.TokQIdent
	tkString = pgsql.TokString // '…' and E'…'
	tkNumber = pgsql.TokNumber
	tkPunct  = pgsql.TokPunct // ( ) [ ] , .
	tkOp     = pgsql.TokOp
)

type token struct {
	kind       tokKind
	start, end int // byte offsets in the statement
}

// tokenList is a statement's tokens (no comments, no ';').
type tokenList struct {
	sql  string
	toks []token
}

func lexStatement(sql string) tokenList {
	pts := pgsql.Tokens(sql)
	toks := make([]token, len(pts))
	for i, t := range pts {
		toks[i] = token{kind: t.Kind, start: t.Start, end: t.End}
	}
	return tokenList{sql: sql, toks: toks}
}

// word is token i lower-cased if it is an unquoted word, else "".
func (tl tokenList) word(i int) string {
	if i < len(tl.toks) && tl.toks[i].kind == tkWord {
		return strings.ToLower(tl.sql[tl.toks[i].start:tl.toks[i].end])
	}
	return ""
}

// text is token i as written.
func (tl tokenList) text(i int) string { return tl.sql[tl.toks[i].start:tl.toks[i].end] }

// translated is a statement rewritten into others.
type translated struct {
	stmts []string // none: the statement is accepted and does nothing
	tag   string
	err   *Error // the statement is refused with this
	// rebuild, when set, is an ALTER TABLE done by rebuilding the table
	// (rebuild.go); stmts is then empty.
	rebuild *rebuildPlan
	// sequenceTable says stmts[0] makes raftsql_sequences and the
	// statements after it use the columns it has gained since its first
	// version (sequence.go), which a table made before them gets first.
	sequenceTable bool
	// enum, when set, is a CREATE TYPE … AS ENUM or DROP TYPE (enum.go);
	// stmts is then empty.
	enum *enumDDL
	// enumChecks says stmts declare columns that may be of enum types,
	// whose CHECK constraints are added in the block that runs them
	// (enum.go).
	enumChecks bool
}

// ddlVerb reports the verbs of the statements translateDDL may rewrite.
func ddlVerb(verb string) bool {
	switch verb {
	case "DROP", "TRUNCATE", "CREATE", "ALTER", "COMMENT":
		return true
	}
	return false
}

// rewritesDDL reports whether translateDDL rewrites sql.
func rewritesDDL(sql string) bool {
	_, ok := translateDDL(sql)
	return ok
}

// translateDDL returns the rewriting of sql, if it needs one.
func translateDDL(sql string) (translated, bool) {
	tl := lexStatement(sql)
	switch tl.word(0) {
	case "drop", "truncate", "create", "alter", "comment":
	default:
		return translated{}, false
	}
	if t, ok := translateZoneTypes(tl); ok {
		return t, true
	}
	toks, word, text := tl.toks, tl.word, tl.text
	// names reads a comma-separated list of (qualified) names from i.
	names := func(i int) ([]string, int) {
		var out []string
		for i < len(toks) && (toks[i].kind == tkWord || toks[i].kind == tkQIdent) {
			start := i
			for i+2 < len(toks) && text(i+1) == "." && (toks[i+2].kind == tkWord || toks[i+2].kind == tkQIdent) {
				i += 2
			}
			out = append(out, sql[toks[start].start:toks[i].end])
			i++
			if i < len(toks) && text(i) == "," {
				i++
				continue
			}
			break
		}
		return out, i
	}
	switch word(0) {
	case "comment":
		// COMMENT ON kind name IS 'text' | NULL
		if word(1) != "on" || len(toks) < 5 || word(len(toks)-2) != "is" {
			return translated{}, false
		}
		if last := toks[len(toks)-1]; last.kind != tkString && word(len(toks)-1) != "null" {
			return translated{}, false
		}
		return translated{tag: "COMMENT"}, true
	case "drop":
		kind := word(1)
		if kind == "sequence" {
			return translateDropSequence(tl)
		}
		if kind == "type" {
			return translateDropType(tl)
		}
		if kind != "table" && kind != "view" && kind != "index" {
			return translated{}, false
		}
		i, ifExists := 2, ""
		if word(2) == "if" && word(3) == "exists" {
			i, ifExists = 4, "IF EXISTS "
		}
		objs, i := names(i)
		tail := false
		if w := word(i); w == "cascade" || w == "restrict" {
			i, tail = i+1, true
		}
		if len(objs) == 0 || i != len(toks) || (len(objs) == 1 && !tail) {
			return translated{}, false
		}
		t := translated{tag: "DROP " + strings.ToUpper(kind)}
		for _, o := range objs {
			t.stmts = append(t.stmts, "DROP "+strings.ToUpper(kind)+" "+ifExists+o)
		}
		return t, true
	case "truncate":
		i := 1
		if word(i) == "table" {
			i++
		}
		if word(i) == "only" {
			i++
		}
		objs, i := names(i)
		if (word(i) == "restart" || word(i) == "continue") && word(i+1) == "identity" {
			i += 2
		}
		if w := word(i); w == "cascade" || w == "restrict" {
			i++
		}
		if len(objs) == 0 || i != len(toks) {
			return translated{}, false
		}
		t := translated{tag: "TRUNCATE TABLE"}
		for _, o := range objs {
			t.stmts = append(t.stmts, "DELETE FROM "+o)
		}
		return t, true
	case "create":
		i := 1
		switch word(1) {
		case "extension":
			return translateCreateExtension(tl)
		case "schema":
			return translateCreateSchema(tl)
		case "sequence":
			return translateCreateSequence(tl)
		case "type":
			return translateCreateType(tl)
		}
		if word(1) == "index" || (word(1) == "unique" && word(2) == "index") {
			return translateCreateIndex(tl)
		}
		for word(i) == "unlogged" {
			i++
		}
		if word(i) != "table" {
			return translated{}, false
		}
		return translateCreateTable(tl, i)
	case "alter":
		if n := len(toks); n >= 5 && word(n-3) == "owner" && word(n-2) == "to" && ownedKinds[word(1)] {
			return translated{tag: "ALTER " + strings.ToUpper(word(1))}, true
		}
		if word(1) == "sequence" {
			return translateAlterSequence(tl)
		}
		if word(1) == "type" {
			return translateAlterType(tl)
		}
		if word(1) != "table" {
			return translated{}, false
		}
		i := 2
		if word(i) == "if" && word(i+1) == "exists" {
			i += 2
		}
		if word(i) == "only" {
			i++
		}
		objs, i := names(i)
		if len(objs) == 1 {
			if p, ok := parseRebuild(tl, objs[0], i); ok {
				return translated{tag: "ALTER TABLE", rebuild: p}, true
			}
		}
		if len(objs) == 1 && word(i) == "drop" {
			return translateDropColumn(tl, objs[0], i+1)
		}
		if len(objs) != 1 || word(i) != "add" {
			return translated{}, false
		}
		i++
		if word(i) == "column" {
			return translateAddSerial(tl, objs[0], i+1)
		}
		if !tableConstraintStarts[word(i)] {
			return translateAddSerial(tl, objs[0], i)
		}
		name := ""
		if word(i) == "constraint" && i+1 < len(toks) {
			name, i = text(i+1), i+2
		}
		unique := word(i) == "unique"
		switch {
		case unique:
			i++
		case word(i) == "primary" && word(i+1) == "key":
			i += 2
		default:
			return translated{}, false
		}
		if i >= len(toks) || text(i) != "(" || text(len(toks)-1) != ")" {
			return translated{}, false
		}
		cols, j := names(i + 1)
		if len(cols) == 0 || j != len(toks)-1 {
			return translated{}, false
		}
		if name == "" {
			table := bare(objs[0])
			if unique {
				var parts []string
				for _, c := range cols {
					parts = append(parts, bare(c))
				}
				name = quoteIdent(table + "_" + strings.Join(parts, "_") + "_key")
			} else {
				name = quoteIdent(table + "_pkey")
			}
		}
		return translated{tag: "ALTER TABLE", stmts: []string{
			"CREATE UNIQUE INDEX " + name + " ON " + objs[0] + " (" + strings.Join(cols, ", ") + ")"}}, true
	}
	return translated{}, false
}

// translateDropColumn drops the CASCADE or RESTRICT of ALTER TABLE t DROP
// [COLUMN] c (Django sends CASCADE): SQLite refuses to drop a column that
// an index, a view or a constraint uses, which is what RESTRICT does.
func translateDropColumn(tl tokenList, table string, i int) (translated, bool) {
	toks, word := tl.toks, tl.word
	if word(i) == "column" {
		i++
	}
	if i+2 != len(toks) || (toks[i].kind != tkWord && toks[i].kind != tkQIdent) || tableConstraintStarts[word(i)] {
		return translated{}, false
	}
	if w := word(i + 1); w != "cascade" && w != "restrict" {
		return translated{}, false
	}
	return translated{tag: "ALTER TABLE", stmts: []string{"ALTER TABLE " + table + " DROP COLUMN " + tl.text(i)}}, true
}

// ownedKinds are the objects whose ALTER … OWNER TO is accepted.
var ownedKinds = map[string]bool{"table": true, "sequence": true, "view": true, "index": true, "schema": true,
	"database": true, "function": true, "type": true, "materialized": true}

// builtinExtensions are the extensions whose CREATE EXTENSION succeeds:
// what they give is there without them.
var builtinExtensions = map[string]bool{"plpgsql": true, "pgcrypto": true}

// translateCreateExtension accepts CREATE EXTENSION [IF NOT EXISTS] name
// [WITH] [SCHEMA s] [VERSION v] [CASCADE] for the built-in extensions.
func translateCreateExtension(tl tokenList) (translated, bool) {
	toks, word := tl.toks, tl.word
	i := 2
	if word(2) == "if" && word(3) == "not" && word(4) == "exists" {
		i = 5
	}
	if i >= len(toks) || (toks[i].kind != tkWord && toks[i].kind != tkQIdent) {
		return translated{}, false
	}
	name := bare(tl.text(i))
	for j := i + 1; j < len(toks); j++ {
		switch word(j) {
		case "with", "cascade":
		case "schema", "version", "from":
			j++
		default:
			return translated{}, false
		}
	}
	if !builtinExtensions[name] {
		e := newError(codeFeatureNotSupported, fmt.Sprintf("extension %q is not available", name))
		e.Hint = "raftsql has plpgsql and pgcrypto's gen_random_uuid built in, and loads no other extension"
		return translated{tag: "CREATE EXTENSION", err: e}, true
	}
	return translated{tag: "CREATE EXTENSION"}, true
}

// translateCreateSchema answers CREATE SCHEMA [IF NOT EXISTS] name
// [AUTHORIZATION role] and CREATE SCHEMA [IF NOT EXISTS] AUTHORIZATION
// role (a schema named after the role). The schemas there are are
// public, pg_catalog and information_schema: with IF NOT EXISTS the
// statement does nothing, as in Postgres, and without it fails with
// 42P06. raftsql has no other schema (a name is a table's, and SQLite's
// qualifiers name attached files, which a node refuses): creating one is
// refused with 0A000, before any statement of a migration that would put
// its objects there has run.
func translateCreateSchema(tl tokenList) (translated, bool) {
	toks, word := tl.toks, tl.word
	i := 2
	ifNotExists := word(2) == "if" && word(3) == "not" && word(4) == "exists"
	if ifNotExists {
		i = 5
	}
	ident := func(j int) bool { return j < len(toks) && (toks[j].kind == tkWord || toks[j].kind == tkQIdent) }
	name := ""
	switch {
	case word(i) == "authorization" && ident(i+1) && i+2 == len(toks):
		name = bare(tl.text(i + 1))
	case ident(i) && word(i) != "authorization" && (i+1 == len(toks) || word(i+1) == "authorization" && ident(i+2) && i+3 == len(toks)):
		name = bare(tl.text(i))
	default:
		return translated{}, false
	}
	t := translated{tag: "CREATE SCHEMA"}
	switch {
	case name == "public" || name == "pg_catalog" || name == "information_schema":
		if !ifNotExists {
			t.err = newError("42P06", fmt.Sprintf("schema %q already exists", name))
		}
	default:
		t.err = newError(codeFeatureNotSupported, fmt.Sprintf("CREATE SCHEMA %s is not supported: raftsql has one schema, public", quoteIdent(name)))
		t.err.Hint = "create the objects in public (for a migration tool's own table, name public as its schema)"
	}
	return t, true
}

// translateCreateIndex drops from CREATE INDEX what SQLite has no use for:
// CONCURRENTLY, ONLY, USING btree or hash, and the operator class of a
// column (Django's varchar_pattern_ops, text_pattern_ops). Another access
// method is left for SQLite to refuse.
func translateCreateIndex(tl tokenList) (translated, bool) {
	toks, word := tl.toks, tl.word
	sql := tl.sql
	// Each word removed takes the space after it along: [its start, the
	// next token's start).
	var cut [][2]int
	upTo := func(i, last int) [2]int { return [2]int{toks[i].start, toks[last+1].start} }
	on := -1
	for i := 0; i+1 < len(toks); i++ {
		if tl.text(i) == "(" {
			break
		}
		switch word(i) {
		case "concurrently":
			if i > 0 && word(i-1) == "index" {
				cut = append(cut, upTo(i, i))
			}
		case "on":
			on = i
		case "only":
			if on > 0 && i == on+1 {
				cut = append(cut, upTo(i, i))
			}
		case "using":
			if m := word(i + 1); on > 0 && i+2 < len(toks) && (m == "btree" || m == "hash") {
				cut = append(cut, upTo(i, i+1))
			}
		}
	}
	cut = append(cut, opclassCuts(tl)...)
	if len(cut) == 0 {
		return translated{}, false
	}
	var b strings.Builder
	at := 0
	for _, c := range cut {
		b.WriteString(sql[at:c[0]])
		at = c[1]
	}
	b.WriteString(sql[at:])
	return translated{tag: "CREATE INDEX", stmts: []string{strings.TrimSpace(b.String())}}, true
}

// opclassCuts are the operator classes in the column list of a CREATE
// INDEX: a word ending in _ops after a column or expression, before a ',',
// ')', ASC, DESC or NULLS. Each is cut with the space before it. SQLite's
// indexes compare with the column's collation, which is what a pattern
// operator class (LIKE 'prefix%' by bytes) needs too.
func opclassCuts(tl tokenList) [][2]int {
	toks, word := tl.toks, tl.word
	open := -1
	for i := range toks {
		if tl.text(i) == "(" {
			open = i
			break
		}
	}
	if open < 0 {
		return nil
	}
	var cut [][2]int
	depth := 0
	for i := open; i < len(toks); i++ {
		switch tl.text(i) {
		case "(":
			depth++
			continue
		case ")":
			depth--
			if depth == 0 {
				return cut
			}
			continue
		}
		w := word(i)
		if depth != 1 || !strings.HasSuffix(w, "_ops") || i+1 >= len(toks) {
			continue
		}
		if prev := tl.text(i - 1); prev == "(" || prev == "," {
			continue // a column named like an operator class
		}
		switch next := word(i + 1); {
		case tl.text(i+1) == "," || tl.text(i+1) == ")", next == "asc", next == "desc", next == "nulls":
			cut = append(cut, [2]int{toks[i-1].end, toks[i].end})
		}
	}
	return cut
}

// VACUUM in its Postgres forms (VACUUM, VACUUM ANALYZE t, VACUUM (options)
// t, as pgbench -i and maintenance scripts send it) is taken and does
// nothing, with a notice that says so: each node's SQLite file is its own,
// and snapshots compact the log. As in Postgres it cannot run inside a
// transaction block. SQLite's VACUUM INTO 'file', which would write a file
// on every node, is refused.

// vacuumError is the refusal of a VACUUM that is not taken; nil for one
// that is, or for another statement.
func vacuumError(st *pgsql.Statement) *Error {
	if st.Verb != "VACUUM" {
		return nil
	}
	tl := lexStatement(st.Source)
	for k := range tl.toks {
		if tl.word(k) == "into" {
			return newError("42501", "VACUUM INTO is not allowed: it would write a file on every node")
		}
	}
	return nil
}

// runVacuum answers a VACUUM.
func (c *conn) runVacuum(st *pgsql.Statement) (*Result, *Error) {
	if e := vacuumError(st); e != nil {
		return nil, e
	}
	if c.sess.TxStatus() != 'I' {
		return nil, newError("25001", "VACUUM cannot run inside a transaction block")
	}
	c.send(&pgproto3.NoticeResponse{Severity: "NOTICE", SeverityUnlocalized: "NOTICE", Code: "00000",
		Message: "VACUUM does nothing here: each node keeps its own SQLite file, and snapshots compact the log"})
	return &Result{Tag: "VACUUM"}, nil
}

// bare is the last part of a possibly qualified, possibly quoted name,
// without quotes; an unquoted name folds to lower case, as in Postgres.
func bare(name string) string {
	quoted := false
	for i := 0; i < len(name); i++ {
		switch {
		case name[i] == '"':
			quoted = !quoted
		case name[i] == '.' && !quoted:
			name, i = name[i+1:], -1
		}
	}
	if strings.HasPrefix(name, `"`) && strings.HasSuffix(name, `"`) && len(name) >= 2 {
		return strings.ReplaceAll(name[1:len(name)-1], `""`, `"`)
	}
	return strings.ToLower(name)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// runTranslated runs the statements of a rewritten command, together.
func (c *conn) runTranslated(t translated) (*Result, *Error) {
	if t.err != nil {
		return nil, t.err
	}
	if t.rebuild != nil {
		return c.runRebuild(t.rebuild)
	}
	if t.enum != nil {
		return c.runEnumDDL(t.tag, t.enum)
	}
	if t.enumChecks {
		return c.runEnumChecked(t)
	}
	if len(t.stmts) == 0 {
		if c.sess.TxStatus() == 'E' {
			return nil, newError(codeInFailedTransaction, "current transaction is aborted, commands ignored until end of transaction block")
		}
		return &Result{Tag: t.tag}, nil
	}
	if len(t.stmts) == 1 && !t.sequenceTable {
		if _, e := c.execute(t.stmts[0], nil); e != nil {
			return nil, e
		}
		return &Result{Tag: t.tag}, nil
	}
	implicit := c.sess.TxStatus() == 'I'
	if implicit {
		if _, e := c.execute("BEGIN", nil); e != nil {
			return nil, e
		}
	}
	var failed *Error
	for i, s := range t.stmts {
		if _, failed = c.execute(s, nil); failed != nil {
			break
		}
		if i == 0 && t.sequenceTable {
			// In the block, after its first write: the leader's state, which
			// no other writer changes before the block commits.
			if failed = c.upgradeSequenceTable(); failed != nil {
				break
			}
		}
	}
	if implicit {
		end := "COMMIT"
		if failed != nil {
			end = "ROLLBACK"
		}
		if _, e := c.execute(end, nil); e != nil && failed == nil {
			failed = e
		}
	}
	if failed != nil {
		return nil, failed
	}
	return &Result{Tag: t.tag}, nil
}
