package pgwire

import (
	"fmt"
	"slices"
	"strings"
)

// This file rebuilds a table for the ALTER TABLE actions SQLite has no
// statement for, which schema tools send after creating a table:
//
//   - ADD [CONSTRAINT c] FOREIGN KEY (…) REFERENCES … | CHECK (…) [NOT VALID]
//   - ALTER [COLUMN] c [SET DATA] TYPE t [USING expr]
//   - ALTER [COLUMN] c SET DEFAULT expr | DROP DEFAULT
//   - ALTER [COLUMN] c SET DEFAULT nextval('TABLE_c_seq') | ADD GENERATED
//     … AS IDENTITY: c becomes a serial (serialseq.go)
//   - ALTER [COLUMN] c SET NOT NULL | DROP NOT NULL
//   - DROP CONSTRAINT [IF EXISTS] c [CASCADE | RESTRICT] of a foreign key,
//     a check or a unique constraint, by the name it was given or the one
//     Postgres makes up for it (TABLE_COLUMN_fkey, TABLE_COLUMN_key,
//     TABLE_COLUMN_check); a unique constraint that ADD UNIQUE made is an
//     index, and is dropped as one, without a rebuild
//
// One statement may hold several, separated by commas. The rebuild reads
// the table's definition from sqlite_schema, edits it, and in one
// transaction (the session's, or one of its own) copies the rows aside,
// drops the table, creates it anew, copies the rows back and creates its
// indexes and triggers again, and an AUTOINCREMENT key's highest number
// handed out. Every statement of it is an ordinary write,
// replicated like any other, so every node rebuilds the same table; the
// rows are checked against the new definition as they are copied back, so
// a constraint the rows break fails the ALTER as in Postgres (23503,
// 23514, 23502). A table that rows of other tables reference cannot be
// dropped while foreign keys are enforced, so rebuilding one fails with
// 23503 and says why.

const (
	sqlstateUndefinedColumn = "42703"
	sqlstateUndefinedTable  = "42P01"
)

// alterAction is one action of an ALTER TABLE that needs a rebuild.
type alterAction struct {
	kind   alterKind
	column string // bare name, for the column actions
	text   string // the constraint, the type, or the default expression
	using  string // the USING expression of a TYPE change
	// identity: an alterSerial that is ADD GENERATED … AS IDENTITY, whose
	// sequence it makes, numbering from start by step.
	identity    bool
	start, step int64
	// ifExists: a DROP CONSTRAINT IF EXISTS, which does nothing for a
	// constraint the table lacks.
	ifExists bool
}

type alterKind uint8

const (
	alterAddConstraint alterKind = iota + 1
	alterType
	alterSetDefault
	alterDropDefault
	alterSetNotNull
	alterDropNotNull
	// alterSerial is SET DEFAULT nextval('TABLE_COLUMN_seq'): the column
	// becomes a serial (serialseq.go); text is the sequence.
	alterSerial
	// alterDropConstraint is DROP CONSTRAINT; text is the bare name.
	alterDropConstraint
)

// rebuildPlan is an ALTER TABLE done by rebuilding the table.
type rebuildPlan struct {
	table   string // as written
	actions []alterAction
	// serialRowid: the alterSerial column became the rowid alias, not a
	// column its trigger numbers.
	serialRowid bool
	// redefine, when set, edits the table's definition before the
	// actions: ALTER TYPE of an enum type its columns use (enum.go).
	redefine func(create string) string
}

// parseRebuild reads the actions from token i of an ALTER TABLE on table;
// ok is false unless every action is one of those a rebuild does.
func parseRebuild(tl tokenList, table string, i int) (*rebuildPlan, bool) {
	toks := tl.toks
	p := &rebuildPlan{table: table}
	for i < len(toks) {
		// The action runs to the next comma outside parentheses.
		end, depth := i, 0
		for ; end < len(toks); end++ {
			switch tl.text(end) {
			case "(":
				depth++
			case ")":
				depth--
			case ",":
				if depth == 0 {
					goto found
				}
			}
		}
	found:
		a, ok := parseAlterAction(tl, i, end)
		if !ok {
			return nil, false
		}
		if a.kind == alterSerial && !a.identity && !strings.EqualFold(a.text, bare(table)+"_"+a.column+"_seq") {
			// Another sequence than the column's own: a DEFAULT that
			// the state machine's nextval evaluates (pgsql/seqfuncs.go).
			a.kind, a.text = alterSetDefault, "nextval("+quoteLiteral(a.text)+")"
		}
		p.actions = append(p.actions, a)
		i = end + 1
	}
	return p, len(p.actions) > 0
}

// span is the statement's text from token i to token j-1.
func (tl tokenList) span(i, j int) string {
	if i >= j {
		return ""
	}
	return tl.sql[tl.toks[i].start:tl.toks[j-1].end]
}

func parseAlterAction(tl tokenList, i, end int) (alterAction, bool) {
	word := tl.word
	var a alterAction
	switch word(i) {
	case "drop":
		j := i + 1
		if word(j) != "constraint" {
			return a, false
		}
		j++
		if word(j) == "if" && word(j+1) == "exists" {
			a.ifExists, j = true, j+2
		}
		if j >= end || (tl.toks[j].kind != tkWord && tl.toks[j].kind != tkQIdent) {
			return a, false
		}
		a.kind, a.text = alterDropConstraint, bare(tl.text(j))
		j++
		if w := word(j); w == "cascade" || w == "restrict" {
			j++
		}
		return a, j == end
	case "add":
		j := i + 1
		if word(j) == "constraint" {
			j += 2
		}
		if !(word(j) == "foreign" && word(j+1) == "key") && word(j) != "check" {
			return a, false
		}
		last := end
		if word(last-2) == "not" && word(last-1) == "valid" {
			last -= 2
		}
		a.kind, a.text = alterAddConstraint, tl.span(i+1, last)
		return a, a.text != ""
	case "alter":
		j := i + 1
		if word(j) == "column" {
			j++
		}
		if j >= end || (tl.toks[j].kind != tkWord && tl.toks[j].kind != tkQIdent) {
			return a, false
		}
		a.column = bare(tl.text(j))
		j++
		switch {
		case word(j) == "type" || (word(j) == "set" && word(j+1) == "data" && word(j+2) == "type"):
			if word(j) == "set" {
				j += 2
			}
			u := j + 1
			for u < end && word(u) != "using" && word(u) != "collate" {
				u++
			}
			a.kind, a.text = alterType, tl.span(j+1, u)
			if word(u) == "using" {
				a.using = tl.span(u+1, end)
				if a.using == "" {
					return a, false
				}
			} else if u != end {
				return a, false
			}
			return a, a.text != ""
		case word(j) == "add" && word(j+1) == "generated":
			return parseAddIdentity(tl, a, j+2, end)
		case word(j) == "set" && word(j+1) == "default":
			a.kind, a.text = alterSetDefault, tl.span(j+2, end)
			if seq, ok := nextvalDefault(a.text); ok {
				a.kind, a.text = alterSerial, seq
			}
			return a, a.text != ""
		case word(j) == "drop" && word(j+1) == "default" && j+2 == end:
			a.kind = alterDropDefault
			return a, true
		case word(j) == "set" && word(j+1) == "not" && word(j+2) == "null" && j+3 == end:
			a.kind = alterSetNotNull
			return a, true
		case word(j) == "drop" && word(j+1) == "not" && word(j+2) == "null" && j+3 == end:
			a.kind = alterDropNotNull
			return a, true
		}
	}
	return a, false
}

// columnClauseStarts begin a column constraint in a column definition.
var columnClauseStarts = map[string]bool{
	"constraint": true, "primary": true, "not": true, "null": true, "unique": true, "check": true,
	"default": true, "collate": true, "references": true, "generated": true, "as": true,
}

// columnDef is a column definition taken apart.
type columnDef struct {
	name    string   // as written
	typ     string   // as written, "" for none
	clauses []string // its constraints, each as written
}

func (d columnDef) String() string {
	parts := []string{d.name}
	if d.typ != "" {
		parts = append(parts, d.typ)
	}
	return strings.Join(append(parts, d.clauses...), " ")
}

// parseColumnDef takes a column definition apart; ok is false for a table
// constraint.
func parseColumnDef(item string) (columnDef, bool) {
	tl := lexStatement(item)
	toks, word := tl.toks, tl.word
	if len(toks) == 0 || (toks[0].kind != tkWord && toks[0].kind != tkQIdent) {
		return columnDef{}, false
	}
	switch word(0) {
	case "constraint", "primary", "unique", "check", "foreign":
		return columnDef{}, false
	}
	d := columnDef{name: tl.text(0)}
	// starts reports whether a clause begins at token k, at depth 0.
	starts := func(k int) bool {
		w := word(k)
		if !columnClauseStarts[w] {
			return false
		}
		switch w {
		case "null":
			return word(k-1) != "set" && word(k-1) != "not" // ON DELETE SET NULL, NOT NULL
		case "default":
			return word(k-1) != "set" // ON DELETE SET DEFAULT
		case "not":
			return word(k+1) == "null"
		}
		return true
	}
	depth, k := 0, 1
	var bounds []int
	for ; k < len(toks); k++ {
		switch tl.text(k) {
		case "(":
			depth++
		case ")":
			depth--
		}
		if depth == 0 && toks[k].kind == tkWord && starts(k) {
			// CONSTRAINT name takes the constraint after it along.
			if len(bounds) > 0 && word(bounds[len(bounds)-1]) == "constraint" && k == bounds[len(bounds)-1]+2 {
				continue
			}
			bounds = append(bounds, k)
		}
	}
	typEnd := len(toks)
	if len(bounds) > 0 {
		typEnd = bounds[0]
	}
	d.typ = tl.span(1, typEnd)
	for b, start := range bounds {
		stop := len(toks)
		if b+1 < len(bounds) {
			stop = bounds[b+1]
		}
		d.clauses = append(d.clauses, tl.span(start, stop))
	}
	return d, true
}

// clauseIs reports whether a clause is of a kind: its first words,
// after an optional CONSTRAINT name.
func clauseIs(clause string, words ...string) bool {
	tl := lexStatement(clause)
	i := 0
	if tl.word(0) == "constraint" {
		i = 2
	}
	for k, w := range words {
		if tl.word(i+k) != w {
			return false
		}
	}
	return true
}

// tableBody splits a CREATE TABLE statement into what comes before its
// parenthesised definitions, the definitions, and what comes after.
func tableBody(create string) (head string, items []string, tail string, ok bool) {
	tl := lexStatement(create)
	open := -1
	for k := range tl.toks {
		if tl.text(k) == "(" {
			open = k
			break
		}
	}
	if open < 0 {
		return "", nil, "", false
	}
	depth, start := 0, open+1
	for k := open; k < len(tl.toks); k++ {
		switch tl.text(k) {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				items = append(items, tl.span(start, k))
				return create[:tl.toks[open].start], items, create[tl.toks[k].end:], true
			}
		case ",":
			if depth == 1 {
				items = append(items, tl.span(start, k))
				start = k + 1
			}
		}
	}
	return "", nil, "", false
}

// applyRebuild edits a CREATE TABLE statement by the plan's actions. It
// returns the new statement, the table's columns as written, and what to
// select from the copy of the rows for each of them.
func applyRebuild(create string, p *rebuildPlan) (string, []string, []string, *Error) {
	if p.redefine != nil {
		create = p.redefine(create)
	}
	head, items, tail, ok := tableBody(create)
	if !ok {
		return "", nil, nil, newError(codeFeatureNotSupported, fmt.Sprintf("cannot read the definition of table %s", p.table))
	}
	var cols, exprs []string
	using := map[string]string{}
	for _, a := range p.actions {
		if a.kind == alterAddConstraint {
			items = append(items, a.text)
			continue
		}
		if a.kind == alterDropConstraint {
			var e *Error
			if items, e = dropConstraint(items, bare(p.table), a); e != nil {
				return "", nil, nil, e
			}
			continue
		}
		found := false
		for k, item := range items {
			d, ok := parseColumnDef(item)
			if !ok || bare(d.name) != a.column {
				continue
			}
			found = true
			var kept []string
			switch a.kind {
			case alterType:
				d.typ = a.text
				if a.using != "" {
					using[a.column] = a.using
				}
			case alterSetDefault, alterDropDefault:
				if a.kind == alterSetDefault && strings.Contains(strings.ToLower(a.text), "nextval") && strings.EqualFold(strings.TrimSpace(d.typ), "integer") {
					d.typ = "INT" // not the rowid alias, whose DEFAULT SQLite never evaluates
				}
				for _, c := range d.clauses {
					if !clauseIs(c, "default") {
						kept = append(kept, c)
					}
				}
				if a.kind == alterSetDefault {
					kept = append(kept, "DEFAULT ("+a.text+")")
				}
				d.clauses = kept
			case alterSerial:
				if a.text == "" {
					a.text = bare(p.table) + "_" + a.column + "_seq"
				}
				if !strings.EqualFold(a.text, bare(p.table)+"_"+a.column+"_seq") {
					e := newError(codeFeatureNotSupported, fmt.Sprintf("column %q: a DEFAULT of nextval(%s) is not supported: only the sequence %s can number it",
						a.column, quoteLiteral(a.text), bare(p.table)+"_"+a.column+"_seq"))
					e.Hint = "declare the column SERIAL or GENERATED BY DEFAULT AS IDENTITY, which number rows themselves"
					return "", nil, nil, e
				}
				if !integerType(d.typ) {
					return "", nil, nil, newError(codeFeatureNotSupported, fmt.Sprintf("column %q of type %s cannot take its numbers from a sequence", a.column, d.typ))
				}
				own, notNull := false, false
				for _, c := range d.clauses {
					switch {
					case clauseIs(c, "primary", "key"):
						own = true
					case clauseIs(c, "not", "null"):
						notNull = true
					case !clauseIs(c, "default") && !clauseIs(c, "null"):
						kept = append(kept, c)
					}
				}
				// A serial is NOT NULL (pg_dump writes it so), but for one
				// a trigger numbers, which raftsql dumps as nullable.
				p.serialRowid = (own || notNull || keyOf(items, a.column)) && !otherKey(items, k, a.column)
				if p.serialRowid {
					pk := "PRIMARY KEY AUTOINCREMENT"
					if m := rowidTypeMark(d.typ); m != "" {
						pk += " " + m
					}
					d.typ, kept = "INTEGER", append([]string{pk}, kept...)
				} else if own {
					kept = append(kept, "PRIMARY KEY")
				}
				d.clauses = kept
			case alterSetNotNull, alterDropNotNull:
				for _, c := range d.clauses {
					if !clauseIs(c, "not", "null") && !clauseIs(c, "null") {
						kept = append(kept, c)
					}
				}
				if a.kind == alterSetNotNull {
					kept = append(kept, "NOT NULL")
				}
				d.clauses = kept
			}
			items[k] = d.String()
		}
		if !found {
			return "", nil, nil, newError(sqlstateUndefinedColumn, fmt.Sprintf("column %q of relation %q does not exist", a.column, bare(p.table)))
		}
	}
	if p.serialRowid {
		items = dropKeyOf(items, p.actions)
	}
	for _, item := range items {
		if d, ok := parseColumnDef(item); ok {
			cols = append(cols, d.name)
			if u, ok := using[bare(d.name)]; ok {
				exprs = append(exprs, "("+u+")")
			} else {
				exprs = append(exprs, d.name)
			}
		}
	}
	return head + "(" + strings.Join(items, ", ") + ")" + tail, cols, exprs, nil
}

// rebuildStatements are the statements that rebuild a table: its
// definition create, its indexes and triggers extra, as sqlite_schema
// holds them.
func rebuildStatements(p *rebuildPlan, create string, extra []string) ([]string, *Error) {
	newCreate, cols, exprs, e := applyRebuild(create, p)
	if e != nil {
		return nil, e
	}
	name := bare(p.table)
	table := quoteIdent(name)
	copyName := quoteIdent(name + "__raftsql_rebuild")
	stmts := []string{
		"CREATE TABLE " + copyName + " AS SELECT * FROM " + table,
		"DROP TABLE " + table,
		newCreate,
		"INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") SELECT " + strings.Join(exprs, ", ") + " FROM " + copyName,
		"DROP TABLE " + copyName,
	}
	return append(stmts, extra...), nil
}

// runRebuild rebuilds a table for an ALTER TABLE, in the session's
// transaction block or one of its own.
func (c *conn) runRebuild(p *rebuildPlan) (*Result, *Error) {
	if c.sess.TxStatus() == 'E' {
		return nil, newError(codeInFailedTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	implicit := c.sess.TxStatus() == 'I'
	if implicit {
		if _, e := c.execute("BEGIN", nil); e != nil {
			return nil, e
		}
	}
	failed := c.rebuild(p)
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
	return &Result{Tag: "ALTER TABLE"}, nil
}

func (c *conn) rebuild(p *rebuildPlan) *Error {
	serial := -1
	var last int64
	var called bool
	for k, a := range p.actions {
		if a.kind == alterSerial {
			if serial >= 0 {
				return newError(codeFeatureNotSupported, "one ALTER TABLE can make one column a serial")
			}
			var e *Error
			if a.identity {
				last, called, e = a.start, false, c.identityDefault(p.table, a)
			} else {
				last, called, e = c.serialDefault(p.table, a.column, a.text)
			}
			if e != nil {
				return e
			}
			serial = k
		}
	}
	res, e := c.execute("SELECT type, sql FROM sqlite_schema WHERE tbl_name = $1 COLLATE NOCASE AND sql IS NOT NULL AND type IN ('table', 'index', 'trigger') ORDER BY type = 'table' DESC, rowid", []any{bare(p.table)})
	if e != nil {
		return e
	}
	var create string
	var extra []string
	for _, row := range res.Rows {
		typ, _ := row[0].(string)
		sql, _ := row[1].(string)
		if typ == "table" {
			create = sql
		} else {
			extra = append(extra, sql)
		}
	}
	if create == "" {
		return newError(sqlstateUndefinedTable, fmt.Sprintf("relation %q does not exist", bare(p.table)))
	}
	p, extra, dropped := constraintIndexes(p, create, extra)
	for _, s := range dropped {
		if _, e := c.execute(s, nil); e != nil {
			return e
		}
	}
	if len(p.actions) == 0 && p.redefine == nil {
		return nil
	}
	stmts, e := rebuildStatements(p, create, extra)
	if e != nil {
		return e
	}
	if serial < 0 && stmts[2] == create {
		// The definition does not change (a schema tool setting, on every
		// start, the default the column has): no copy of the rows.
		return nil
	}
	if strings.Contains(strings.ToUpper(create), "AUTOINCREMENT") {
		// Dropping the table forgets the highest number it ever handed
		// out; put it back, so that no number is handed out twice.
		r, e := c.execute("SELECT name, seq FROM sqlite_sequence WHERE name = $1 COLLATE NOCASE", []any{bare(p.table)})
		if e != nil {
			return e
		}
		if len(r.Rows) == 1 {
			name, _ := r.Rows[0][0].(string)
			seq, _ := r.Rows[0][1].(int64)
			restore := []string{
				fmt.Sprintf("UPDATE sqlite_sequence SET seq = %d WHERE name = %s AND seq < %d", seq, quoteLiteral(name), seq),
				fmt.Sprintf("INSERT INTO sqlite_sequence (name, seq) SELECT %s, %d WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = %s)",
					quoteLiteral(name), seq, quoteLiteral(name)),
			}
			// After the rows are back (statement 4 of rebuildStatements).
			stmts = append(stmts[:4], append(restore, stmts[4:]...)...)
		}
	}
	for k, s := range stmts {
		if _, e := c.execute(s, nil); e != nil {
			if k == 1 && e.Code == "23503" {
				e.Detail = fmt.Sprintf("ALTER TABLE rebuilds %s, and rows of other tables reference it", bare(p.table))
				e.Hint = "add the constraint, or change the column, before the referencing rows are written"
			}
			return e
		}
	}
	if serial >= 0 {
		return c.becomeSerial(p, p.actions[serial], last, called)
	}
	return nil
}

// dropConstraint removes from a table's definitions the constraint a
// DROP CONSTRAINT names: a table constraint, or a clause of a column.
func dropConstraint(items []string, table string, a alterAction) ([]string, *Error) {
	for k, item := range items {
		if d, ok := parseColumnDef(item); ok {
			for c, clause := range d.clauses {
				if !strings.EqualFold(constraintName(clause, table, []string{bare(d.name)}), a.text) {
					continue
				}
				if clauseIs(clause, "primary", "key") {
					return nil, primaryKeyDropError(table)
				}
				d.clauses = append(d.clauses[:c:c], d.clauses[c+1:]...)
				items[k] = d.String()
				return items, nil
			}
			continue
		}
		if !strings.EqualFold(constraintName(item, table, constraintColumns(item)), a.text) {
			continue
		}
		if clauseIs(item, "primary", "key") {
			return nil, primaryKeyDropError(table)
		}
		return append(items[:k:k], items[k+1:]...), nil
	}
	if a.ifExists {
		return items, nil
	}
	return nil, constraintMissing(a.text, table)
}

func constraintMissing(name, table string) *Error {
	return newError(codeUndefinedObject, fmt.Sprintf("constraint %q of relation %q does not exist", name, table))
}

func primaryKeyDropError(table string) *Error {
	e := newError(codeFeatureNotSupported, fmt.Sprintf("dropping the primary key of %q is not supported", table))
	e.Hint = "SQLite keeps a table's rows by its key: create a new table and copy the rows"
	return e
}

// constraintName is the name of a constraint, clause, of table over cols:
// the one CONSTRAINT gives it, else the one Postgres makes up.
func constraintName(clause, table string, cols []string) string {
	tl := lexStatement(clause)
	if tl.word(0) == "constraint" && len(tl.toks) > 1 {
		return bare(tl.text(1))
	}
	suffix := ""
	switch {
	case clauseIs(clause, "primary", "key"):
		return table + "_pkey"
	case clauseIs(clause, "foreign", "key"), clauseIs(clause, "references"):
		suffix = "fkey"
	case clauseIs(clause, "unique"):
		suffix = "key"
	case clauseIs(clause, "check") && len(cols) == 1:
		suffix = "check"
	default:
		return ""
	}
	if len(cols) == 0 {
		return ""
	}
	return table + "_" + strings.Join(cols, "_") + "_" + suffix
}

// constraintColumns are the bare names in the first parentheses of a
// table constraint: FOREIGN KEY (a, b), UNIQUE (a, b).
func constraintColumns(item string) []string {
	tl := lexStatement(item)
	var cols []string
	for k := range tl.toks {
		if tl.text(k) != "(" {
			continue
		}
		for j := k + 1; j < len(tl.toks) && tl.text(j) != ")"; j++ {
			if t := tl.toks[j]; t.kind == tkWord || t.kind == tkQIdent {
				cols = append(cols, bare(tl.text(j)))
			}
		}
		break
	}
	return cols
}

// constraintIndexes takes out of p the DROP CONSTRAINTs of unique
// constraints that are indexes of the table (ALTER TABLE … ADD UNIQUE or
// ADD PRIMARY KEY made them, translateDDL), not clauses of its definition
// create; it returns the plan left, the indexes and triggers the rebuild
// makes again, and the statements that drop those indexes.
func constraintIndexes(p *rebuildPlan, create string, extra []string) (*rebuildPlan, []string, []string) {
	_, items, _, ok := tableBody(create)
	if !ok {
		return p, extra, nil
	}
	left := &rebuildPlan{table: p.table, serialRowid: p.serialRowid, redefine: p.redefine}
	var drops []string
	for _, a := range p.actions {
		if a.kind != alterDropConstraint {
			left.actions = append(left.actions, a)
			continue
		}
		probe := a
		probe.ifExists = false
		if _, e := dropConstraint(slices.Clone(items), bare(p.table), probe); e == nil {
			left.actions = append(left.actions, a)
			continue
		}
		at := slices.IndexFunc(extra, func(sql string) bool {
			tl := lexStatement(sql)
			return tl.word(0) == "create" && tl.word(1) == "unique" && tl.word(2) == "index" && len(tl.toks) > 3 &&
				strings.EqualFold(bare(tl.text(3)), a.text)
		})
		if at < 0 {
			left.actions = append(left.actions, a) // refused, or IF EXISTS: the rebuild says so
			continue
		}
		drops = append(drops, "DROP INDEX "+quoteIdent(a.text))
		extra = append(extra[:at:at], extra[at+1:]...)
	}
	return left, extra, drops
}
