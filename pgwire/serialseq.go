package pgwire

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// This file gives a serial column (serial.go) the sequence Postgres would
// have made for it, TABLE_COLUMN_seq, as the catalogs show it: a name that
// reads the column's numbering, not a row of raftsql_sequences. The
// numbering is SQLite's: for the rowid alias with AUTOINCREMENT the highest
// number handed out is sqlite_sequence's row of the table; for any other
// serial the next number is one more than the column's largest value.
//
//   - SELECT last_value, is_called FROM seq (pg_dump) reads either kind of
//     sequence;
//   - setval on a serial's sequence sets sqlite_sequence; one numbered from
//     the largest value takes only the value it already has;
//   - ALTER TABLE t ALTER COLUMN c SET DEFAULT nextval('t_c_seq'), which
//     pg_dump writes after CREATE SEQUENCE t_c_seq, turns the column into a
//     serial by rebuilding the table (rebuild.go) and moves the sequence's
//     state into the numbering, so that a loaded dump numbers on from where
//     the dumped database was; ALTER TABLE t ALTER COLUMN c ADD GENERATED …
//     AS IDENTITY, what pg_dump writes for an identity column of Postgres,
//     does the same with a sequence it makes.

// serialColumn is the column a serial's sequence stands for.
type serialColumn struct {
	table, column string // as sqlite_schema and the table's columns name them
	rowid         bool   // the rowid alias
	autoincrement bool
}

// findSerial finds the serial column whose sequence is name (bare).
func (c *conn) findSerial(name string) (serialColumn, bool, *Error) {
	r, e := c.execute(`SELECT m.name, p.name,
  p.pk = 1 AND upper(p.type) = 'INTEGER' AND (SELECT count(*) FROM pragma_table_info(m.name) q WHERE q.pk > 0) = 1,
  instr(upper(m.sql), 'AUTOINCREMENT') > 0,
  EXISTS (SELECT 1 FROM sqlite_schema s WHERE s.type = 'trigger' AND s.name = m.name || '_' || p.name || '_seq' COLLATE NOCASE)
FROM sqlite_schema m, pragma_table_info(m.name) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND m.name || '_' || p.name || '_seq' = $1 COLLATE NOCASE`, []any{name})
	if e != nil {
		return serialColumn{}, false, e
	}
	for _, row := range r.Rows {
		s := serialColumn{table: toString(row[0]), column: toString(row[1]), rowid: truthy(row[2]), autoincrement: truthy(row[3])}
		if s.rowid || truthy(row[4]) {
			return s, true, nil
		}
	}
	return serialColumn{}, false, nil
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return fmt.Sprint(v)
}

func truthy(v any) bool {
	switch v := v.(type) {
	case int64:
		return v != 0
	case bool:
		return v
	}
	return false
}

// highest is the highest number the serial has handed out, 0 for none.
func (c *conn) highest(s serialColumn) (int64, *Error) {
	q := "SELECT coalesce(max(" + quoteIdent(s.column) + "), 0) FROM " + quoteIdent(s.table)
	args := []any(nil)
	if s.rowid && s.autoincrement {
		q = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = $1 COLLATE NOCASE), 0)"
		args = []any{s.table}
	}
	r, e := c.execute(q, args)
	if e != nil {
		return 0, e
	}
	if len(r.Rows) != 1 {
		return 0, nil
	}
	v, _ := r.Rows[0][0].(int64)
	return v, nil
}

// sequenceState is a sequence's last_value and is_called; ok is false when
// name is no sequence.
func (c *conn) sequenceState(name string) (last int64, called, ok bool, e *Error) {
	// A failed statement would fail the session's transaction block: look
	// before reading a table that may not be there.
	has, e := c.hasSequenceTable()
	if e != nil {
		return 0, false, false, e
	}
	if has {
		r, e := c.execute("SELECT last_value, is_called FROM raftsql_sequences WHERE name = $1", []any{name})
		if e != nil {
			return 0, false, false, e
		}
		if len(r.Rows) == 1 {
			last, _ = r.Rows[0][0].(int64)
			return last, truthy(r.Rows[0][1]), true, nil
		}
	}
	s, found, e := c.findSerial(name)
	if e != nil || !found {
		return 0, false, false, e
	}
	v, e := c.highest(s)
	if e != nil {
		return 0, false, false, e
	}
	if v <= 0 {
		return 1, false, true, nil
	}
	return v, true, true, nil
}

// sequenceRead is a recognised SELECT of a sequence as a relation:
// SELECT last_value, is_called FROM name, as pg_dump reads each sequence
// it dumps (log_cnt, which Postgres also has, is 0 here).
type sequenceRead struct {
	name string
	cols []string
}

// mentionsSequenceRead is a quick look for "_value" or "is_called" in any
// case, so that most SELECTs are not lexed again.
func mentionsSequenceRead(sql string) bool {
	if len(sql) > 256 {
		return false
	}
	for i := 0; ; i++ {
		j := strings.IndexByte(sql[i:], '_')
		if j < 0 {
			return false
		}
		i += j
		if hasFold(sql[i+1:], "value") || i >= 2 && hasFold(sql[i-2:], "is_called") {
			return true
		}
	}
}

// hasFold reports whether s begins with the lower-case ASCII word w, in any
// case.
func hasFold(s, w string) bool {
	if len(s) < len(w) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if s[i]|0x20 != w[i] && s[i] != w[i] {
			return false
		}
	}
	return true
}

// parseSequenceRead recognises SELECT col, … FROM name, the columns being
// last_value, is_called and log_cnt.
func parseSequenceRead(sql string) (sequenceRead, bool) {
	var r sequenceRead
	if !mentionsSequenceRead(sql) {
		return r, false
	}
	tl := lexStatement(sql)
	if tl.word(0) != "select" {
		return r, false
	}
	i := 1
	for {
		switch w := tl.word(i); w {
		case "last_value", "is_called", "log_cnt":
			r.cols = append(r.cols, w)
		default:
			return r, false
		}
		i++
		if textAt(tl, i) != "," {
			break
		}
		i++
	}
	if tl.word(i) != "from" {
		return r, false
	}
	name, j, ok := qualifiedName(tl, i+1)
	if !ok || j != len(tl.toks) {
		return r, false
	}
	r.name = name
	return r, true
}

func (r sequenceRead) columns() []Column {
	cols := make([]Column, len(r.cols))
	for i, n := range r.cols {
		cols[i] = Column{Name: n, DeclType: "BIGINT"}
		if n == "is_called" {
			cols[i].DeclType = "BOOLEAN"
		}
	}
	return cols
}

// runSequenceRead answers a sequenceRead; ok is false when its name is no
// sequence, and the statement runs as written.
func (c *conn) runSequenceRead(r sequenceRead) (*Result, bool, *Error) {
	last, called, ok, e := c.sequenceState(r.name)
	if e != nil || !ok {
		return nil, false, e
	}
	row := make([]any, len(r.cols))
	for i, n := range r.cols {
		switch n {
		case "last_value":
			row[i] = last
		case "is_called":
			row[i] = called
		default:
			row[i] = int64(0)
		}
	}
	return &Result{Columns: r.columns(), Rows: [][]any{row}, Tag: "SELECT 1"}, true, nil
}

// setSerial is setval on a serial's sequence: AUTOINCREMENT's highest
// number becomes the value (one less when is_called is false); a serial
// numbered from its largest value takes only the value it has.
func (c *conn) setSerial(s serialColumn, call *pgsql.SequenceCall) *Error {
	want := call.Value
	if !call.Called {
		want--
	}
	if s.rowid && s.autoincrement {
		return c.setHighest(s.table, want)
	}
	have, e := c.highest(s)
	if e != nil {
		return e
	}
	if want != have {
		e := newError(codeFeatureNotSupported, fmt.Sprintf("setval of the sequence %q to another value than %d is not supported: it numbers %s.%s from the column's largest value", call.Name, have, s.table, s.column))
		e.Hint = "a serial column that is its table's primary key numbers from a sequence setval can set"
		return e
	}
	return nil
}

// setHighest sets the highest number an AUTOINCREMENT table has handed
// out: exactly one of the two statements writes.
func (c *conn) setHighest(table string, v int64) *Error {
	if _, e := c.execute("UPDATE sqlite_sequence SET seq = $2 WHERE name = $1 COLLATE NOCASE", []any{table, v}); e != nil {
		return e
	}
	_, e := c.execute("INSERT INTO sqlite_sequence (name, seq) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = $1 COLLATE NOCASE)", []any{table, v})
	return e
}

// nextvalDefault reads a column default nextval('name'[::regclass]): the
// sequence, bare.
func nextvalDefault(text string) (string, bool) {
	tl := lexStatement(text)
	i := 0
	if tl.word(0) == "pg_catalog" && textAt(tl, 1) == "." {
		i = 2
	}
	if tl.word(i) != "nextval" || textAt(tl, i+1) != "(" || i+2 >= len(tl.toks) || tl.toks[i+2].kind != tkString {
		return "", false
	}
	lit := textAt(tl, i+2)
	if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		return "", false
	}
	name := pgsql.SequenceName(strings.ReplaceAll(lit[1:len(lit)-1], "''", "'"))
	j := i + 3
	if textAt(tl, j) == "::" && tl.word(j+1) == "regclass" {
		j += 2
	}
	if textAt(tl, j) != ")" || j+1 != len(tl.toks) || name == "" {
		return "", false
	}
	return name, true
}

// serialDefault checks SET DEFAULT nextval of a sequence made by CREATE
// SEQUENCE against the database: the sequence must step by 1, and the
// column's values must be integers (applyRebuild checks that it is the
// sequence a serial of the column would have, TABLE_COLUMN_seq). It
// returns the sequence's state.
func (c *conn) serialDefault(table, column, seq string) (last int64, called bool, e *Error) {
	refuse := func(why string) *Error {
		e := newError(codeFeatureNotSupported, fmt.Sprintf("column %q: a DEFAULT of nextval(%s) is not supported: %s", column, quoteLiteral(seq), why))
		e.Hint = "declare the column SERIAL or GENERATED BY DEFAULT AS IDENTITY, which number rows themselves"
		return e
	}
	r, e := c.execute("SELECT last_value, is_called, increment FROM raftsql_sequences WHERE name = $1", []any{seq})
	if e != nil {
		return 0, false, sequenceError(e, seq)
	}
	if len(r.Rows) != 1 {
		return 0, false, newError(sqlstateUndefinedTable, fmt.Sprintf("relation %q does not exist", seq))
	}
	if inc, _ := r.Rows[0][2].(int64); inc != 1 {
		return 0, false, refuse("the sequence steps by " + strconv.FormatInt(inc, 10) + ", and a serial by 1")
	}
	last, _ = r.Rows[0][0].(int64)
	called = truthy(r.Rows[0][1])
	return last, called, c.integerValues(table, column)
}

// integerValues refuses a column that holds values other than integers,
// which a serial cannot take over.
func (c *conn) integerValues(table, column string) *Error {
	q := "SELECT count(*) FROM " + quoteIdent(bare(table)) + " WHERE typeof(" + quoteIdent(column) + ") <> 'integer'"
	r, e := c.execute(q, nil)
	if e != nil {
		return e
	}
	if n, _ := r.Rows[0][0].(int64); n > 0 {
		e := newError(codeFeatureNotSupported, fmt.Sprintf("column %q cannot be numbered by a sequence: it holds values that are not integers, or NULL", column))
		e.Hint = "declare the column SERIAL or GENERATED BY DEFAULT AS IDENTITY, which number rows themselves"
		return e
	}
	return nil
}

// integerType reports whether a column's declared type is an integer one.
// rowidTypeMark is what the definition of a rowid alias declared typ
// (SERIAL's BIGINT, an identity column's type) carries after its
// constraints: SQLite's rowid alias must be declared INTEGER, so the
// Postgres type, when it is not integer, is a comment the catalogs read
// (package catalog, _pg_col0); "" for integer.
func rowidTypeMark(typ string) string {
	switch strings.ToLower(strings.Join(strings.Fields(typ), " ")) {
	case "bigint", "int8":
		return "/* raftsql:bigint */"
	case "smallint", "int2":
		return "/* raftsql:smallint */"
	}
	return ""
}

func integerType(typ string) bool {
	switch strings.ToLower(strings.Join(strings.Fields(typ), " ")) {
	case "int", "integer", "int2", "int4", "int8", "smallint", "bigint":
		return true
	}
	return false
}

// otherKey reports whether the table's definition items, but for item k
// (column col's), declare a primary key other than PRIMARY KEY (col).
func otherKey(items []string, k int, col string) bool {
	for x, item := range items {
		if x == k {
			continue
		}
		if d, ok := parseColumnDef(item); ok {
			for _, cl := range d.clauses {
				if clauseIs(cl, "primary", "key") {
					return true
				}
			}
			continue
		}
		if cols, ok := keyColumns(item); ok && (len(cols) != 1 || cols[0] != col) {
			return true
		}
	}
	return false
}

// keyColumns are the columns of a table constraint PRIMARY KEY (…).
func keyColumns(item string) ([]string, bool) {
	if !clauseIs(item, "primary", "key") {
		return nil, false
	}
	tl := lexStatement(item)
	var cols []string
	in := false
	for k, t := range tl.toks {
		switch {
		case tl.text(k) == "(":
			in = true
		case tl.text(k) == ")":
			in = false
		case in && (t.kind == tkWord || t.kind == tkQIdent):
			cols = append(cols, bare(tl.text(k)))
		}
	}
	return cols, true
}

// keyOf reports whether a table constraint of the items is PRIMARY KEY
// (col).
func keyOf(items []string, col string) bool {
	for _, item := range items {
		if cols, ok := keyColumns(item); ok && len(cols) == 1 && cols[0] == col {
			return true
		}
	}
	return false
}

// dropKeyOf drops the table constraint PRIMARY KEY (col) of the column an
// alterSerial made the rowid alias, which is the key itself.
func dropKeyOf(items []string, actions []alterAction) []string {
	col := ""
	for _, a := range actions {
		if a.kind == alterSerial {
			col = a.column
		}
	}
	out := items[:0:0]
	for _, item := range items {
		if cols, ok := keyColumns(item); ok && len(cols) == 1 && cols[0] == col {
			continue
		}
		out = append(out, item)
	}
	return out
}

// becomeSerial ends the rebuild that made a column a serial: the
// sequence's state becomes the numbering's, and the sequence, which the
// column now stands for, is no longer a row of raftsql_sequences.
func (c *conn) becomeSerial(p *rebuildPlan, a alterAction, last int64, called bool) *Error {
	table := bare(p.table)
	if p.serialRowid {
		if !called {
			last--
		}
		if last > 0 {
			if e := c.setHighest(table, last); e != nil {
				return e
			}
		}
	} else if _, e := c.execute(seqTrigger(table, a.column, false), nil); e != nil {
		return e
	}
	if a.identity {
		return nil // its sequence was never a row
	}
	_, e := c.execute("DELETE FROM raftsql_sequences WHERE name = $1", []any{a.text})
	return e
}

// parseAddIdentity reads ALTER [COLUMN] c ADD GENERATED { ALWAYS | BY
// DEFAULT } AS IDENTITY [( sequence options )], token i following
// GENERATED, as pg_dump writes an identity column of Postgres: an
// alterSerial whose sequence it names (SEQUENCE NAME) or the column's own.
func parseAddIdentity(tl tokenList, a alterAction, i, end int) (alterAction, bool) {
	word := tl.word
	switch {
	case word(i) == "always":
		i++
	case word(i) == "by" && word(i+1) == "default":
		i += 2
	default:
		return a, false
	}
	if word(i) != "as" || word(i+1) != "identity" {
		return a, false
	}
	a.kind, a.identity, a.start, a.step = alterSerial, true, 1, 1
	i += 2
	if i == end {
		return a, true
	}
	if textAt(tl, i) != "(" || textAt(tl, end-1) != ")" {
		return a, false
	}
	number := func(k int) (int64, int, bool) {
		neg := textAt(tl, k) == "-"
		if neg {
			k++
		}
		if k >= end || tl.toks[k].kind != tkNumber {
			return 0, k, false
		}
		v, err := strconv.ParseInt(textAt(tl, k), 10, 64)
		if neg {
			v = -v
		}
		return v, k + 1, err == nil
	}
	ok := true
	for k := i + 1; k < end-1 && ok; {
		switch word(k) {
		case "sequence":
			if word(k+1) != "name" {
				return a, false
			}
			a.text, k, ok = qualifiedName(tl, k+2)
		case "start":
			if k++; word(k) == "with" {
				k++
			}
			a.start, k, ok = number(k)
		case "increment":
			if k++; word(k) == "by" {
				k++
			}
			a.step, k, ok = number(k)
		case "minvalue", "maxvalue", "cache":
			_, k, ok = number(k + 1)
		case "no":
			if w := word(k + 1); w != "minvalue" && w != "maxvalue" && w != "cycle" {
				return a, false
			}
			k += 2
		default:
			return a, false
		}
	}
	return a, ok
}

// identityDefault checks ADD GENERATED … AS IDENTITY against the
// database, as serialDefault does for a sequence made by CREATE SEQUENCE.
func (c *conn) identityDefault(table string, a alterAction) *Error {
	if a.step != 1 || a.start < 1 {
		e := newError(codeFeatureNotSupported, fmt.Sprintf("column %q: an identity that starts at %d and steps by %d is not supported", a.column, a.start, a.step))
		e.Hint = "an identity column here numbers from 1 or more, by 1"
		return e
	}
	return c.integerValues(table, a.column)
}

// isSequence reports whether name is a sequence, of either kind.
func (c *conn) isSequence(name string) bool {
	_, _, ok, e := c.sequenceState(name)
	return ok && e == nil
}

// hasSequenceTable reports whether raftsql_sequences, which the first
// CREATE SEQUENCE makes, is there.
func (c *conn) hasSequenceTable() (bool, *Error) {
	r, e := c.execute("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'raftsql_sequences'", nil)
	if e != nil {
		return false, e
	}
	n, _ := r.Rows[0][0].(int64)
	return n > 0, nil
}

// setvalSerial is setval of a serial's sequence; done is false when name
// is a row of raftsql_sequences, or no serial's (runSequenceCall then says
// what is wrong).
func (c *conn) setvalSerial(call *pgsql.SequenceCall) (done bool, e *Error) {
	has, e := c.hasSequenceTable()
	if e != nil {
		return false, e
	}
	if has {
		r, e := c.execute("SELECT 1 FROM raftsql_sequences WHERE name = $1", []any{call.Name})
		if e != nil || len(r.Rows) > 0 {
			return false, e
		}
	}
	s, ok, e := c.findSerial(call.Name)
	if e != nil {
		return false, e
	}
	if !ok {
		if !has {
			return false, newError(sqlstateUndefinedTable, fmt.Sprintf("relation %q does not exist", call.Name))
		}
		return false, nil
	}
	return true, c.setSerial(s, call)
}

// nextvalSerial is nextval of a serial's sequence: for the rowid alias
// with AUTOINCREMENT, a number no INSERT will take, as sqlite_sequence
// records it as handed out; done is false when name is no serial's. Only
// names ending in _seq are looked up, so that other sequences' nextval
// costs nothing more.
func (c *conn) nextvalSerial(call *pgsql.SequenceCall) (v int64, done bool, e *Error) {
	if !strings.HasSuffix(strings.ToLower(call.Name), "_seq") {
		return 0, false, nil
	}
	has, e := c.hasSequenceTable()
	if e != nil {
		return 0, false, e
	}
	if has {
		r, e := c.execute("SELECT 1 FROM raftsql_sequences WHERE name = $1", []any{call.Name})
		if e != nil || len(r.Rows) > 0 {
			return 0, false, e
		}
	}
	s, ok, e := c.findSerial(call.Name)
	if e != nil || !ok {
		return 0, false, e
	}
	if !s.rowid || !s.autoincrement {
		e := newError(codeFeatureNotSupported, fmt.Sprintf("nextval of the sequence %q is not supported: it numbers %s.%s from the column's largest value", call.Name, s.table, s.column))
		e.Hint = "a serial column that is its table's primary key numbers from a sequence nextval can take numbers from"
		return 0, true, e
	}
	top := "(SELECT coalesce(max(rowid), 0) FROM " + quoteIdent(s.table) + ")"
	r, e := c.execute("UPDATE sqlite_sequence SET seq = max(seq, "+top+") + 1 WHERE name = $1 COLLATE NOCASE RETURNING seq", []any{s.table})
	if e == nil && len(r.Rows) == 0 {
		r, e = c.execute("INSERT INTO sqlite_sequence (name, seq) SELECT $1, "+top+" + 1 RETURNING seq", []any{s.table})
	}
	if e != nil {
		return 0, true, e
	}
	if len(r.Rows) != 1 {
		return 0, true, newError(codeInternalError, "nextval: no number")
	}
	v, _ = r.Rows[0][0].(int64)
	return v, true, nil
}
