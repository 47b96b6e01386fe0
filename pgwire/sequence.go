package pgwire

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// Sequences (CREATE SEQUENCE, nextval, setval, currval) are rows of one
// table, raftsql_sequences, which the first CREATE SEQUENCE makes: a
// sequence's state is data like any other, so nextval is an UPDATE …
// RETURNING, a write replicated through the log, and every node holds the
// same values. currval is the session's own memory of what nextval and
// setval gave it, as in Postgres.
//
// nextval, setval and currval as whole statements — SELECT
// nextval('name') [AS alias], what Hibernate, pg_dump's output and
// hand-written scripts send — are answered here, serials' sequences
// (serialseq.go) included. Inside another statement (a column DEFAULT, an
// INSERT's VALUES, one per row of INSERT … SELECT) they are the state
// machine's write functions, which pgsql/seqfuncs.go describes; currval
// there knows what nextval gave earlier in the same transaction block, and
// SELECT currval('name') alone inside a block asks it first. Unlike
// Postgres, nextval inside a transaction block that rolls back gives its
// number again: the sequence's row is rolled back with it.

// sequenceTable is the definition of the table that holds the sequences.
// start_value is the sequence's START, which RESTART goes back to and the
// catalogs show (a table made before it had the column has none: the
// catalogs show the first value of the sequence's range); owned_table and
// owned_column the column of OWNED BY, which the catalogs show owning it
// (pg_depend, pg_get_serial_sequence).
const sequenceTable = "CREATE TABLE IF NOT EXISTS raftsql_sequences (name TEXT PRIMARY KEY, last_value INTEGER NOT NULL, " +
	"increment INTEGER NOT NULL, min_value INTEGER NOT NULL, max_value INTEGER NOT NULL, is_called INTEGER NOT NULL, " +
	"start_value INTEGER, owned_table TEXT, owned_column TEXT)"

// sequenceColumnsSince are the columns raftsql_sequences gained after its
// first version, with their definitions.
var sequenceColumnsSince = [][2]string{{"start_value", "INTEGER"}, {"owned_table", "TEXT"}, {"owned_column", "TEXT"}}

// upgradeSequenceTable adds to raftsql_sequences the columns a table made
// by an earlier version lacks. It runs inside the block that uses them, so
// the ALTERs and the statements after them are one entry, applied alike on
// every node.
func (c *conn) upgradeSequenceTable() *Error {
	r, e := c.execute("SELECT name FROM pragma_table_info('raftsql_sequences')", nil)
	if e != nil {
		return e
	}
	has := map[string]bool{}
	for _, row := range r.Rows {
		if name, ok := row[0].(string); ok {
			has[name] = true
		}
	}
	for _, col := range sequenceColumnsSince {
		if !has[col[0]] {
			if _, e := c.execute("ALTER TABLE raftsql_sequences ADD COLUMN "+col[0]+" "+col[1], nil); e != nil {
				return e
			}
		}
	}
	return nil
}

// ownedBy reads the column of OWNED BY at token i, table.column or NONE
// ("" table then), and the token after it.
func ownedBy(tl tokenList, i int) (table, column string, next int, ok bool) {
	if tl.word(i) == "none" {
		return "", "", i + 1, true
	}
	toks := tl.toks
	if i >= len(toks) || (toks[i].kind != tkWord && toks[i].kind != tkQIdent) {
		return "", "", i, false
	}
	parts := []string{bare(tl.text(i))}
	for i+2 < len(toks) && textAt(tl, i+1) == "." && (toks[i+2].kind == tkWord || toks[i+2].kind == tkQIdent) {
		i += 2
		parts = append(parts, bare(tl.text(i)))
	}
	if len(parts) < 2 {
		return "", "", i + 1, false
	}
	return parts[len(parts)-2], parts[len(parts)-1], i + 1, true
}

// sqlOrNull is s as a literal, NULL for "".
func sqlOrNull(s string) string {
	if s == "" {
		return "NULL"
	}
	return quoteLiteral(s)
}

// translateCreateSequence reads CREATE SEQUENCE [IF NOT EXISTS] name
// [AS type] [INCREMENT [BY] n] [MINVALUE n | NO MINVALUE] [MAXVALUE n | NO
// MAXVALUE] [START [WITH] n] [CACHE n] [NO CYCLE] [OWNED BY …].
func translateCreateSequence(tl tokenList) (translated, bool) {
	toks, word := tl.toks, tl.word
	i, ifNotExists := 2, false
	if word(2) == "if" && word(3) == "not" && word(4) == "exists" {
		i, ifNotExists = 5, true
	}
	name, i, ok := qualifiedName(tl, i)
	if !ok {
		return translated{}, false
	}
	inc, minV, maxV := int64(1), int64(1), int64(math.MaxInt64)
	var start *int64
	var setMin, setMax bool
	var ownTable, ownColumn string
	number := func(k int) (int64, int, bool) {
		neg := false
		if textAt(tl, k) == "-" || textAt(tl, k) == "+" {
			neg, k = textAt(tl, k) == "-", k+1
		}
		if k >= len(toks) || toks[k].kind != tkNumber {
			return 0, k, false
		}
		v, err := strconv.ParseInt(textAt(tl, k), 10, 64)
		if neg {
			v = -v
		}
		return v, k + 1, err == nil
	}
	for i < len(toks) {
		var v int64
		switch word(i) {
		case "as":
			switch word(i + 1) {
			case "smallint":
				maxV = math.MaxInt16
			case "integer", "int":
				maxV = math.MaxInt32
			case "bigint":
			default:
				return translated{}, false
			}
			i += 2
			continue
		case "increment":
			i++
			if word(i) == "by" {
				i++
			}
			if inc, i, ok = number(i); !ok || inc == 0 {
				return translated{}, false
			}
			continue
		case "minvalue":
			if v, i, ok = number(i + 1); !ok {
				return translated{}, false
			}
			minV, setMin = v, true
			continue
		case "maxvalue":
			if v, i, ok = number(i + 1); !ok {
				return translated{}, false
			}
			maxV, setMax = v, true
			continue
		case "start":
			i++
			if word(i) == "with" {
				i++
			}
			if v, i, ok = number(i); !ok {
				return translated{}, false
			}
			start = &v
			continue
		case "cache":
			if _, i, ok = number(i + 1); !ok {
				return translated{}, false
			}
			continue
		case "no":
			switch word(i + 1) {
			case "minvalue", "maxvalue", "cycle":
				i += 2
				continue
			}
			return translated{}, false
		case "owned":
			if word(i+1) != "by" {
				return translated{}, false
			}
			ownTable, ownColumn, i, ok = ownedBy(tl, i+2)
			if !ok {
				return translated{}, false
			}
			continue
		case "cycle":
			e := newError(codeFeatureNotSupported, "CYCLE sequences are not supported")
			return translated{tag: "CREATE SEQUENCE", err: e}, true
		}
		return translated{}, false
	}
	if inc < 0 {
		// A descending sequence runs from -1 down, as in Postgres.
		if !setMax {
			maxV = -1
		}
		if !setMin {
			minV = math.MinInt64
		}
	}
	first := minV
	if inc < 0 {
		first = maxV
	}
	if start != nil {
		first = *start
	}
	if first < minV || first > maxV {
		e := newError("22023", fmt.Sprintf("START value (%d) cannot be outside the range %d to %d", first, minV, maxV))
		return translated{tag: "CREATE SEQUENCE", err: e}, true
	}
	insert := "INSERT INTO"
	if ifNotExists {
		insert = "INSERT OR IGNORE INTO"
	}
	return translated{tag: "CREATE SEQUENCE", stmts: []string{
		sequenceTable,
		fmt.Sprintf("%s raftsql_sequences (name, last_value, increment, min_value, max_value, is_called, start_value, owned_table, owned_column) "+
			"VALUES (%s, %d, %d, %d, %d, 0, %d, %s, %s)",
			insert, quoteLiteral(name), first, inc, minV, maxV, first, sqlOrNull(ownTable), sqlOrNull(ownColumn)),
	}, sequenceTable: true}, true
}

// translateDropSequence reads DROP SEQUENCE [IF EXISTS] a, b [CASCADE].
func translateDropSequence(tl tokenList) (translated, bool) {
	toks, word := tl.toks, tl.word
	i := 2
	if word(2) == "if" && word(3) == "exists" {
		i = 4
	}
	var names []string
	for {
		name, j, ok := qualifiedName(tl, i)
		if !ok {
			return translated{}, false
		}
		names, i = append(names, quoteLiteral(name)), j
		if i < len(toks) && textAt(tl, i) == "," {
			i++
			continue
		}
		break
	}
	if w := word(i); w == "cascade" || w == "restrict" {
		i++
	}
	if i != len(toks) {
		return translated{}, false
	}
	return translated{tag: "DROP SEQUENCE", stmts: []string{
		sequenceTable, "DELETE FROM raftsql_sequences WHERE name IN (" + strings.Join(names, ", ") + ")"}}, true
}

// translateAlterSequence reads ALTER SEQUENCE name OWNED BY table.column
// | NONE and ALTER SEQUENCE name RESTART [[WITH] n].
func translateAlterSequence(tl tokenList) (translated, bool) {
	word := tl.word
	i := 2
	if word(2) == "if" && word(3) == "exists" {
		i = 4
	}
	name, i, ok := qualifiedName(tl, i)
	if !ok {
		return translated{}, false
	}
	switch word(i) {
	case "owned":
		if word(i+1) != "by" {
			return translated{}, false
		}
		table, column, j, ok := ownedBy(tl, i+2)
		if !ok || j != len(tl.toks) {
			return translated{}, false
		}
		// A serial's sequence (serialseq.go) is no row: its column owns it.
		return translated{tag: "ALTER SEQUENCE", stmts: []string{sequenceTable,
			"UPDATE raftsql_sequences SET owned_table = " + sqlOrNull(table) + ", owned_column = " + sqlOrNull(column) +
				" WHERE name = " + quoteLiteral(name)}, sequenceTable: true}, true
	case "restart":
		i++
		if word(i) == "with" {
			i++
		}
		to := "coalesce(start_value, CASE WHEN increment > 0 THEN min_value ELSE max_value END)"
		if i < len(tl.toks) {
			if tl.toks[i].kind != tkNumber || i+1 != len(tl.toks) {
				return translated{}, false
			}
			v, err := strconv.ParseInt(textAt(tl, i), 10, 64)
			if err != nil {
				return translated{}, false
			}
			to = strconv.FormatInt(v, 10)
		}
		return translated{tag: "ALTER SEQUENCE", stmts: []string{sequenceTable,
			"UPDATE raftsql_sequences SET last_value = " + to + ", is_called = 0 WHERE name = " + quoteLiteral(name)}, sequenceTable: true}, true
	}
	return translated{}, false
}

// qualifiedName reads a possibly qualified name at token i: its last part
// (bare), and the token after it.
func qualifiedName(tl tokenList, i int) (string, int, bool) {
	toks := tl.toks
	if i >= len(toks) || (toks[i].kind != tkWord && toks[i].kind != tkQIdent) {
		return "", i, false
	}
	start := i
	for i+2 < len(toks) && textAt(tl, i+1) == "." && (toks[i+2].kind == tkWord || toks[i+2].kind == tkQIdent) {
		i += 2
	}
	return bare(tl.sql[toks[start].start:toks[i].end]), i + 1, true
}

// textAt is token i as written, "" past the last.
func textAt(tl tokenList, i int) string {
	if i < 0 || i >= len(tl.toks) {
		return ""
	}
	return tl.text(i)
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sequenceColumns is the result shape of a nextval, setval or currval.
func sequenceColumns(c *pgsql.SequenceCall) []Column {
	return []Column{{Name: c.Column, DeclType: "BIGINT"}}
}

// runSequenceCall runs a recognised nextval, setval or currval.
func (c *conn) runSequenceCall(call *pgsql.SequenceCall) (*Result, *Error) {
	res := &Result{Columns: sequenceColumns(call), Tag: "SELECT 1"}
	switch call.Func {
	case "currval":
		if c.sess.TxStatus() == 'T' {
			// Inside a transaction block, a number nextval gave an
			// earlier statement of the block (a DEFAULT, an INSERT's
			// VALUES) is the state machine's to know (pgsql/seqfuncs.go).
			if r, e := c.execute("SELECT "+pgsql.CurrvalOr+"($1, NULL)", []any{call.Name}); e == nil && len(r.Rows) == 1 {
				if v, ok := r.Rows[0][0].(int64); ok {
					c.rememberSequence(call.Name, v)
					res.Rows = [][]any{{v}}
					return res, nil
				}
			}
		}
		v, ok := c.seqLast[call.Name]
		if !ok {
			return nil, newError("55000", fmt.Sprintf("currval of sequence %q is not yet defined in this session", call.Name))
		}
		res.Rows = [][]any{{v}}
		return res, nil
	case "nextval":
		if v, done, e := c.nextvalSerial(call); done || e != nil {
			if e != nil {
				return nil, e
			}
			c.rememberSequence(call.Name, v)
			res.Rows = [][]any{{v}}
			return res, nil
		}
		r, e := c.execute("UPDATE raftsql_sequences SET last_value = CASE WHEN is_called THEN last_value + increment ELSE last_value END, is_called = 1 "+
			"WHERE name = $1 AND (NOT is_called OR (increment > 0 AND last_value <= max_value - increment) OR (increment < 0 AND last_value >= min_value - increment)) "+
			"RETURNING last_value", []any{call.Name})
		if e != nil {
			return nil, sequenceError(e, call.Name)
		}
		if len(r.Rows) == 1 {
			v, _ := r.Rows[0][0].(int64)
			c.rememberSequence(call.Name, v)
			res.Rows = [][]any{{v}}
			return res, nil
		}
		if r, e = c.execute("SELECT increment > 0 FROM raftsql_sequences WHERE name = $1", []any{call.Name}); e != nil {
			return nil, sequenceError(e, call.Name)
		}
		if len(r.Rows) == 0 {
			return nil, newError(sqlstateUndefinedTable, fmt.Sprintf("relation %q does not exist", call.Name))
		}
		bound := "maximum"
		if up, _ := r.Rows[0][0].(int64); up == 0 {
			bound = "minimum"
		}
		return nil, newError("2200H", fmt.Sprintf("nextval: reached %s value of sequence %q", bound, call.Name))
	case "setval":
		if done, e := c.setvalSerial(call); done || e != nil {
			if e != nil {
				return nil, e
			}
			res.Rows = [][]any{{call.Value}}
			return res, nil
		}
		called := 0
		if call.Called {
			called = 1
		}
		r, e := c.execute("UPDATE raftsql_sequences SET last_value = $2, is_called = $3 WHERE name = $1 AND $2 BETWEEN min_value AND max_value RETURNING last_value",
			[]any{call.Name, call.Value, int64(called)})
		if e != nil {
			return nil, sequenceError(e, call.Name)
		}
		if len(r.Rows) == 0 {
			if r, e = c.execute("SELECT min_value, max_value FROM raftsql_sequences WHERE name = $1", []any{call.Name}); e != nil || len(r.Rows) == 0 {
				return nil, newError(sqlstateUndefinedTable, fmt.Sprintf("relation %q does not exist", call.Name))
			}
			return nil, newError("22003", fmt.Sprintf("setval: value %d is out of bounds for sequence %q (%v..%v)", call.Value, call.Name, r.Rows[0][0], r.Rows[0][1]))
		}
		if call.Called {
			c.rememberSequence(call.Name, call.Value)
		}
		res.Rows = [][]any{{call.Value}}
		return res, nil
	}
	return nil, newError(codeInternalError, "unknown sequence function")
}

// rememberSequence notes the value nextval or setval gave the session, for
// currval; the memory is bounded, as a session rarely uses many.
func (c *conn) rememberSequence(name string, v int64) {
	if c.seqLast == nil || len(c.seqLast) >= 1024 {
		c.seqLast = map[string]int64{}
	}
	c.seqLast[name] = v
}

// sequenceError says which sequence is missing when no sequence exists at
// all yet.
func sequenceError(e *Error, name string) *Error {
	if strings.Contains(e.Message, "raftsql_sequences") {
		return newError(sqlstateUndefinedTable, fmt.Sprintf("relation %q does not exist", name))
	}
	return e
}
