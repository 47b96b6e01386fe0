package pgwire

import (
	"strings"
)

// This file rewrites the CREATE TABLE statements that give a column
// numbers of its own: SERIAL, BIGSERIAL, SMALLSERIAL (and serial2/4/8) and
// GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY. SQLite has one mechanism
// that numbers rows as Postgres' sequences do, its rowid, and a column
// becomes an alias of it when it is declared exactly INTEGER PRIMARY KEY;
// with AUTOINCREMENT a number is never handed out twice, even after the
// row that had it was deleted, as with a sequence. So:
//
//   - a serial or identity column that is the table's primary key (a column
//     constraint, or a table constraint naming only it) becomes
//     "INTEGER PRIMARY KEY AUTOINCREMENT"; so does the first one of a table
//     that has no primary key (a Postgres serial without a key takes
//     duplicate numbers given explicitly; here it is unique);
//   - any other one (the key is another column, or several, or it is a
//     second serial column) keeps a plain integer type and is numbered by an
//     AFTER INSERT trigger, TABLE_COLUMN_seq, that gives a row inserted
//     without a value one more than the column's largest value. The trigger
//     reads only the table, so every node computes the same numbers; but
//     RETURNING reports what the INSERT itself stored, NULL, and the column
//     cannot be NOT NULL, since SQLite checks that before the trigger runs.
//
// ALTER TABLE … ADD [COLUMN] of such a column adds one numbered by a
// trigger, the rows already there taking their rowids. GENERATED ALWAYS
// takes explicit values, as BY DEFAULT does. A rowid is
// 64-bit whatever the serial kind; the column is declared INTEGER, which
// clients see as int4 (declOID), and a bigint or smallint one carries its
// type in a comment (rowidTypeMark) for the catalogs.

// serialTypes are the type names that make a column a serial, with the
// integer type the column keeps when a trigger numbers it.
var serialTypes = map[string]string{
	"serial": "INTEGER", "serial4": "INTEGER",
	"bigserial": "BIGINT", "serial8": "BIGINT",
	"smallserial": "SMALLINT", "serial2": "SMALLINT",
}

// columnStarts are the words that end a column's type: the first word of
// a column constraint.
var columnStarts = map[string]bool{
	"constraint": true, "primary": true, "not": true, "null": true, "unique": true, "check": true,
	"default": true, "references": true, "collate": true, "generated": true, "as": true,
}

// tableConstraintStarts are the first words of a table constraint.
var tableConstraintStarts = map[string]bool{
	"constraint": true, "primary": true, "unique": true, "check": true, "foreign": true, "exclude": true,
}

// tableElement is one column definition or table constraint of a CREATE
// TABLE, tokens [from, to).
type tableElement struct {
	from, to int
	column   bool
	typeEnd  int    // column: the first token after its type
	serial   string // column: the integer type if it is a serial
	identity bool   // column: GENERATED … AS IDENTITY
	pk       bool   // column: PRIMARY KEY among its constraints
	pkCols   []string
	rowid    bool // rewritten as the rowid alias
	// pkName is the name of the table constraint PRIMARY KEY of the rowid
	// alias, which the column then carries.
	pkName  string
	dropped bool // a table constraint made redundant by the rowid alias
}

// translateCreateTable rewrites CREATE [UNLOGGED] TABLE, token i being
// TABLE: serial and identity columns as above, and WITH (storage
// parameters) at the end dropped, UNLOGGED too (every table is logged
// here).
func translateCreateTable(tl tokenList, i int) (translated, bool) {
	toks, word, text := tl.toks, tl.word, tl.text
	n := len(toks)
	tableTok := i
	j := i + 1
	ifNotExists := false
	if word(j) == "if" && word(j+1) == "not" && word(j+2) == "exists" {
		ifNotExists, j = true, j+3
	}
	nameStart := j
	if j >= n || (toks[j].kind != tkWord && toks[j].kind != tkQIdent) {
		return translated{}, false
	}
	for j+2 < n && text(j+1) == "." && (toks[j+2].kind == tkWord || toks[j+2].kind == tkQIdent) {
		j += 2
	}
	name := tl.sql[toks[nameStart].start:toks[j].end]
	j++
	if j >= n || text(j) != "(" {
		return translated{}, false
	}
	open := j
	closing, depth := -1, 0
	for k := open; k < n && closing < 0; k++ {
		switch text(k) {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
			if depth == 0 {
				closing = k
			}
		}
	}
	if closing < 0 {
		return translated{}, false
	}
	// What follows the element list: WITH ( … ) to the very end is dropped.
	tail := ""
	withDropped := false
	if closing+1 < n {
		if word(closing+1) == "with" && closing+2 < n && text(closing+2) == "(" && text(n-1) == ")" && matching(tl, closing+2) == n-1 {
			withDropped = true
		} else {
			tail = " " + tl.sql[toks[closing+1].start:toks[n-1].end]
		}
	}
	elems := splitElements(tl, open+1, closing)
	auto, tablePK := 0, false
	for x := range elems {
		e := &elems[x]
		if e.column {
			if e.serial != "" || e.identity {
				auto++
			}
			tablePK = tablePK || e.pk
		} else if e.pkCols != nil {
			tablePK = true
		}
	}
	if auto == 0 {
		if !withDropped {
			return translated{}, false
		}
		return translated{tag: "CREATE TABLE", stmts: []string{"CREATE " + tl.sql[toks[tableTok].start:toks[closing].end] + tail}}, true
	}
	// Which auto column becomes the rowid alias.
	for x := range elems {
		e := &elems[x]
		if !e.column || (e.serial == "" && !e.identity) {
			continue
		}
		col := bare(text(e.from))
		switch {
		case e.pk:
			e.rowid = true
		case !tablePK:
			e.rowid, tablePK = true, true
		default:
			for y := range elems {
				if c := elems[y].pkCols; len(c) == 1 && bare(c[0]) == col {
					e.rowid, elems[y].dropped = true, true
					if from := elems[y].from; word(from) == "constraint" && from+1 < n {
						e.pkName = text(from + 1)
					}
				}
			}
		}
	}
	var parts, triggers []string
	for _, e := range elems {
		if e.dropped {
			continue
		}
		if !e.column || (e.serial == "" && !e.identity) {
			parts = append(parts, tl.sql[toks[e.from].start:toks[e.to-1].end])
			continue
		}
		colName := text(e.from)
		typ := e.serial
		if typ == "" {
			typ = tl.sql[toks[e.from+1].start:toks[e.typeEnd-1].end]
		}
		if e.rowid {
			mark := rowidTypeMark(typ)
			typ = "INTEGER PRIMARY KEY AUTOINCREMENT"
			if e.pkName != "" {
				// The key keeps its name for the catalogs.
				typ = "INTEGER CONSTRAINT " + e.pkName + " PRIMARY KEY AUTOINCREMENT"
			}
			if mark != "" {
				typ += " " + mark
			}
		}
		def := colName + " " + typ
		if rest := keptConstraints(tl, e.typeEnd, e.to, e.rowid); rest != "" {
			def += " " + rest
		}
		parts = append(parts, def)
		if !e.rowid {
			triggers = append(triggers, seqTrigger(name, colName, ifNotExists))
		}
	}
	head := "CREATE TABLE "
	if ifNotExists {
		head += "IF NOT EXISTS "
	}
	stmts := []string{head + name + " (" + strings.Join(parts, ", ") + ")" + tail}
	return translated{tag: "CREATE TABLE", stmts: append(stmts, triggers...)}, true
}

// seqTrigger is the trigger that numbers column col of table.
func seqTrigger(table, col string, ifNotExists bool) string {
	t, c := quoteIdent(bare(table)), quoteIdent(bare(col))
	ine := ""
	if ifNotExists {
		ine = "IF NOT EXISTS "
	}
	return "CREATE TRIGGER " + ine + quoteIdent(bare(table)+"_"+bare(col)+"_seq") +
		" AFTER INSERT ON " + t + " FOR EACH ROW WHEN NEW." + c + " IS NULL BEGIN UPDATE " + t +
		" SET " + c + " = (SELECT coalesce(max(" + c + "), 0) + 1 FROM " + t + ") WHERE rowid = NEW.rowid; END"
}

// translateAddSerial rewrites ALTER TABLE table ADD [COLUMN] of a serial or
// identity column, tokens [from, len) being the column definition: SQLite
// cannot add a key column, so the column is numbered by its trigger, and
// the rows already there take their rowids, as Postgres numbers them from
// the sequence.
func translateAddSerial(tl tokenList, table string, from int) (translated, bool) {
	if from+1 >= len(tl.toks) || (tl.toks[from].kind != tkWord && tl.toks[from].kind != tkQIdent) {
		return translated{}, false
	}
	e := readElement(tl, from, len(tl.toks))
	if !e.column || e.pk || (e.serial == "" && !e.identity) {
		return translated{}, false // not one, or a key SQLite refuses to add
	}
	colName := tl.text(from)
	typ := e.serial
	if typ == "" {
		typ = tl.sql[tl.toks[from+1].start:tl.toks[e.typeEnd-1].end]
	}
	def := colName + " " + typ
	if rest := keptConstraints(tl, e.typeEnd, e.to, false); rest != "" {
		def += " " + rest
	}
	return translated{tag: "ALTER TABLE", stmts: []string{
		"ALTER TABLE " + table + " ADD COLUMN " + def,
		"UPDATE " + table + " SET " + colName + " = rowid",
		seqTrigger(table, colName, false),
	}}, true
}

// matching is the index of the parenthesis closing the one at open.
func matching(tl tokenList, open int) int {
	depth := 0
	for k := open; k < len(tl.toks); k++ {
		switch tl.text(k) {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
			if depth == 0 {
				return k
			}
		}
	}
	return -1
}

// splitElements reads the comma-separated elements of a CREATE TABLE's
// list, tokens [from, to).
func splitElements(tl tokenList, from, to int) []tableElement {
	var out []tableElement
	start, depth := from, 0
	for k := from; k <= to; k++ {
		if k < to {
			switch tl.text(k) {
			case "(", "[":
				depth++
				continue
			case ")", "]":
				depth--
				continue
			case ",":
				if depth != 0 {
					continue
				}
			default:
				continue
			}
		}
		if k > start {
			out = append(out, readElement(tl, start, k))
		}
		start = k + 1
	}
	return out
}

func readElement(tl tokenList, from, to int) tableElement {
	word := tl.word
	e := tableElement{from: from, to: to}
	if tableConstraintStarts[word(from)] {
		k := from
		if word(k) == "constraint" {
			k += 2
		}
		if word(k) == "primary" && word(k+1) == "key" && k+2 < to && tl.text(k+2) == "(" && tl.text(to-1) == ")" {
			for c := k + 3; c < to-1; c++ {
				if t := tl.toks[c]; t.kind == tkWord || t.kind == tkQIdent {
					e.pkCols = append(e.pkCols, tl.text(c))
				}
			}
			if e.pkCols == nil {
				e.pkCols = []string{}
			}
		}
		return e
	}
	e.column = true
	k := from + 1
	depth := 0
	for ; k < to; k++ {
		switch tl.text(k) {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
		}
		if depth == 0 && columnStarts[word(k)] {
			break
		}
	}
	e.typeEnd = k
	if k == from+2 {
		e.serial = serialTypes[word(from+1)]
	}
	depth = 0
	for ; k < to; k++ {
		switch tl.text(k) {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
		}
		if depth != 0 {
			continue
		}
		if word(k) == "primary" && word(k+1) == "key" {
			e.pk = true
		}
		if word(k) == "generated" {
			if word(k+1) == "always" && word(k+2) == "as" && word(k+3) == "identity" ||
				word(k+1) == "by" && word(k+2) == "default" && word(k+3) == "as" && word(k+4) == "identity" {
				e.identity = true
			}
		}
	}
	if e.identity && e.typeEnd == from+1 {
		e.identity = false // no type: leave it to SQLite's error
	}
	return e
}

// keptConstraints is the text of a column's constraints, tokens [from, to),
// without those the rewriting replaces: NOT NULL and NULL (the rowid alias
// is never NULL; a trigger-numbered column must accept NULL until the
// trigger runs), GENERATED … AS IDENTITY [( options )], and, for the rowid
// alias, PRIMARY KEY [ASC] with its CONSTRAINT name.
func keptConstraints(tl tokenList, from, to int, rowid bool) string {
	word := tl.word
	var kept []string
	depth := 0
	for k := from; k < to; k++ {
		if depth == 0 {
			prev := ""
			if k > from {
				prev = word(k - 1)
			}
			c := k
			if word(k) == "constraint" && k+2 < to {
				c = k + 2
			}
			end := -1
			switch {
			case word(c) == "not" && word(c+1) == "null" && prev != "is":
				end = c + 2
			case word(c) == "null" && prev != "default" && prev != "set" && prev != "is" && prev != "not":
				end = c + 1
			case rowid && word(c) == "primary" && word(c+1) == "key":
				end = c + 2
				if w := word(end); w == "asc" {
					end++
				}
			case word(c) == "generated":
				end = c + 1
				for end < to && word(end-1) != "identity" {
					end++
				}
				if end < to && tl.text(end) == "(" {
					if m := matching(tl, end); m > 0 {
						end = m + 1
					}
				}
			}
			if end > 0 {
				k = min(end, to) - 1
				continue
			}
		}
		switch tl.text(k) {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
		}
		kept = append(kept, tl.text(k))
	}
	return joinTokens(kept)
}

// joinTokens writes tokens back with a space between words and none
// around punctuation that needs none.
func joinTokens(ts []string) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 && t != ")" && t != "," && t != "." && ts[i-1] != "(" && ts[i-1] != "." {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String()
}
