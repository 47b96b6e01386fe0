package pgwire

import (
	"strings"
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
//     unique index named as Postgres names the constraint's.
//
// Several statements run together, inside the session's transaction block
// or one of their own, so the command is all or nothing.

// translated is a statement rewritten into others.
type translated struct {
	stmts []string
	tag   string
}

// translateDDL returns the rewriting of sql, if it needs one.
func translateDDL(sql string) (translated, bool) {
	switch firstWord(sql) {
	case "drop", "truncate", "create", "alter":
	default:
		return translated{}, false // most statements: no need to read on
	}
	tl := lexStatement(sql)
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
	case "drop":
		kind := word(1)
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
		for word(i) == "unlogged" {
			i++
		}
		if word(i) != "table" {
			return translated{}, false
		}
		return translateCreateTable(tl, i)
	case "alter":
		if word(1) != "table" {
			return translated{}, false
		}
		i := 2
		if word(i) == "only" {
			i++
		}
		objs, i := names(i)
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

// vacuumError refuses VACUUM in its Postgres forms (VACUUM ANALYZE t,
// VACUUM (options) t), which would otherwise fail with a confusing syntax
// error, as the state machine refuses the plain one.
func vacuumError(sql string) *Error {
	if firstWord(sql) != "vacuum" {
		return nil
	}
	e := newError("42501", "VACUUM is not allowed: a node's storage is its own business, and it needs no vacuuming")
	e.Hint = "pgbench -i can skip its vacuum step with -I dtgp, and a pgbench run with -n"
	return e
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
	if len(t.stmts) == 1 {
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
	for _, s := range t.stmts {
		if _, failed = c.execute(s, nil); failed != nil {
			break
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
