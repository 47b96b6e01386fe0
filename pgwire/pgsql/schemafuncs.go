package pgsql

import (
	"strconv"
	"strings"
)

// A backup is a plain SQLite file that stock sqlite3 opens, checks
// (PRAGMA integrity_check) and writes to. The expressions a schema stores
// — CHECK constraints, column DEFAULTs, generated columns, index
// expressions and partial-index WHEREs, views, triggers — are run by
// whatever opens that file, and stock sqlite3 has none of the functions
// raftsql adds to SQLite in Go (Functions). Measured with Debian's sqlite3
// 3.40 on a backup: an index on split_part(…) or on data ->> 'k' fails
// integrity_check and every INSERT into its table ("unknown function"); a
// generated column of initcap(…) fails every INSERT; a CHECK of left(…)
// makes the whole file unreadable ("malformed database schema", LEFT being
// a keyword to that SQLite); a CHECK of x ~* 'p' fails integrity_check
// (SQLite's REGEXP knows no (?i)); a view of split_part(…) fails when it
// is read and a trigger calling reverse(…) fails the INSERT that fires it.
// What ORMs write most (CHECK ("age" >= 0), DEFAULT now(), DEFAULT
// gen_random_uuid(), an index on lower(email), x ~ 'p') is stored as
// SQLite built-ins, or REGEXP, which the sqlite3 shell provides, and works.
//
// So in the statements that store expressions (CREATE TABLE, ALTER TABLE,
// CREATE INDEX, CREATE VIEW, CREATE TRIGGER), the Postgres functions that
// have an equivalent in SQLite's built-ins are written as that equivalent
// (portableCall): left and right are substr, starts_with a substr
// comparison, concat a chain of ||, repeat, lpad and rpad replace the
// zeros of hex(zeroblob(n)), octet_length is half the length of hex,
// json_typeof a CASE over json_type, extract(epoch from x) a julianday.
// char_length is length, and x ->> 'k' a CASE over json_type giving
// Postgres' text (jsonop.go), in every statement: a query then uses an
// index on x ->> 'k'. gen_random_uuid() already is built-ins
// (RandomUUIDExpr), now() CURRENT_TIMESTAMP. Each equivalent translates
// to itself when read again (a SQL dump loaded through psql).
//
// What is left is chosen by where it is stored:
//   - In a CHECK constraint, a DEFAULT, a generated column and an index,
//     a call of any function stock sqlite3 lacks is refused with 0A000
//     naming the function (as are ~*, !~*, #>, #>> and ||/, which become
//     such calls). These are evaluated by integrity_check or by every
//     write to the table, so a backup holding one would fail exactly the
//     checks it is promised to pass, and a restore into a build without
//     the function could not write to the table.
//   - In a view and a trigger body, such calls are accepted: Postgres
//     applications put split_part, regexp_replace or to_char in views
//     that raftsql serves, and refusing them would break what works; the
//     backup still opens, passes integrity_check and its tables read and
//     take writes in stock sqlite3 — only reading that view, or a write
//     that fires that trigger, fails there with "no such function". The
//     README lists this.
//
// stockFunctions is what stock sqlite3 is taken to have: the core,
// date, math and JSON functions of SQLite 3.38 and later (Debian's 3.40
// has them; 3.38 brought unixepoch, format and ->, ->>), REGEXP (the
// sqlite3 shell's), and the Postgres names this front end writes as one
// of those.

// schemaWhat says where an expression of a stored statement is stored.
type schemaWhat uint8

const (
	inView schemaWhat = iota + 1
	inTrigger
	inCheck
	inDefault
	inGenerated
	inIndex
)

func (w schemaWhat) String() string {
	return [...]string{"", "a view", "a trigger", "a CHECK constraint", "a column DEFAULT", "a generated column", "an index"}[w]
}

// strict reports whether calls stock sqlite3 lacks are refused there.
func (w schemaWhat) strict() bool { return w >= inCheck }

// schemaRegion is tokens [lo, hi) of one stored expression.
type schemaRegion struct {
	lo, hi int
	what   schemaWhat
}

// schemaCtx is what a statement stores: its regions, or for a whole view,
// a trigger, or a sub-expression of a region, one kind for all its tokens.
type schemaCtx struct {
	whole   schemaWhat
	regions []schemaRegion
}

// findSchema sets p.schema for a statement that stores expressions.
func (p *parser) findSchema() {
	if p.st.Verb != "CREATE" && p.st.Verb != "ALTER" {
		return
	}
	switch p.st.object {
	case "VIEW":
		if p.st.Verb == "CREATE" {
			p.schema = &schemaCtx{whole: inView}
		}
	case "TRIGGER":
		if p.st.Verb == "CREATE" {
			p.schema = &schemaCtx{whole: inTrigger}
		}
	case "INDEX":
		if p.st.Verb == "CREATE" {
			if r, ok := p.indexRegion(); ok {
				p.schema = &schemaCtx{regions: []schemaRegion{r}}
			}
		}
	case "TABLE":
		if rs := p.tableRegions(); len(rs) > 0 {
			p.schema = &schemaCtx{regions: rs}
		}
	}
}

// indexRegion is what CREATE INDEX … ON name [USING method] ( stores: all
// that follows the parenthesis (the indexed expressions, INCLUDE, WHERE).
func (p *parser) indexRegion() (schemaRegion, bool) {
	for i := 1; i < len(p.toks); i++ {
		if p.word(i) != "on" || p.kindAt(i) != tWord {
			continue
		}
		j := i + 1
		for j < len(p.toks) && !p.isPunct(j, '(') {
			j++
		}
		return schemaRegion{lo: j + 1, hi: len(p.toks), what: inIndex}, j < len(p.toks)
	}
	return schemaRegion{}, false
}

// tableRegions lists the CHECK constraints, DEFAULTs and generated
// columns of CREATE TABLE or ALTER TABLE; CREATE TABLE … AS SELECT stores
// none (its query is run, not kept).
func (p *parser) tableRegions() []schemaRegion {
	var out []schemaRegion
	depth := 0
	for i := 2; i < len(p.toks); i++ {
		switch {
		case p.isPunct(i, '('):
			depth++
			continue
		case p.isPunct(i, ')'):
			depth--
			continue
		case p.kindAt(i) != tWord:
			continue
		}
		switch p.word(i) {
		case "check":
			if end := p.matchParen(i + 1); p.isPunct(i+1, '(') && end > 0 {
				out = append(out, schemaRegion{i + 2, end, inCheck})
			}
		case "default":
			if p.word(i-1) == "drop" || p.word(i-1) == "by" || p.word(i-1) == "set" && (p.word(i-2) == "delete" || p.word(i-2) == "update") {
				continue
			}
			if i+1 < len(p.toks) && !p.isPunct(i+1, ',') && !p.isPunct(i+1, ')') {
				out = append(out, schemaRegion{i + 1, p.defaultEnd(i + 1), inDefault})
			}
		case "as":
			if end := p.matchParen(i + 1); p.isPunct(i+1, '(') && end > 0 && (depth > 0 || p.word(i-1) == "always") {
				if w := p.word(i + 2); w != "select" && w != "with" && w != "values" {
					out = append(out, schemaRegion{i + 2, end, inGenerated})
				}
			}
		}
	}
	return out
}

// schemaAt is where token i is stored, 0 if it is not.
func (p *parser) schemaAt(i int) schemaWhat {
	s := p.schema
	if s == nil {
		return 0
	}
	if s.whole != 0 {
		return s.whole
	}
	for _, r := range s.regions {
		if i >= r.lo && i < r.hi {
			return r.what
		}
	}
	return 0
}

// subSchema is the schema context of a sub-expression that starts at
// token i, translated by a parser of its own (subExpr).
func (p *parser) subSchema(i int) *schemaCtx {
	if w := p.schemaAt(i); w != 0 {
		return &schemaCtx{whole: w}
	}
	return nil
}

// notCalls are the words a parenthesis may follow in an expression
// without their being a function's name.
var notCalls = map[string]bool{
	"in": true, "not": true, "and": true, "or": true, "exists": true, "case": true, "when": true,
	"then": true, "else": true, "is": true, "between": true, "like": true, "ilike": true, "glob": true,
	"match": true, "regexp": true, "cast": true, "collate": true, "select": true, "values": true,
	"any": true, "all": true, "some": true, "array": true, "row": true, "using": true, "include": true,
	"with": true, "where": true, "on": true, "filter": true, "over": true, "distinct": true, "as": true,
	"check": true, "default": true, "key": true, "unique": true, "references": true, "escape": true,
	"interval": true, "nulls": true, "asc": true, "desc": true,
}

// stockFunctions are the functions stock sqlite3 has (SQLite 3.38 and
// later: core, date, math, JSON; regexp in the sqlite3 shell), and the
// Postgres names this front end writes as SQLite built-ins. Not format,
// which raftsql runs as Postgres' (%I, %L) and sqlite3 as printf, nor
// trunc of two arguments, raftsql's own beside SQLite's trunc(x).
var stockFunctions = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`
		abs changes char coalesce glob hex ifnull iif instr last_insert_rowid length like
		likelihood likely lower ltrim max min nullif printf quote random randomblob replace round
		rtrim sign soundex sqlite_version substr substring total_changes trim typeof unicode unlikely
		upper zeroblob regexp
		date time datetime julianday unixepoch strftime current_date current_time current_timestamp
		localtimestamp localtime
		acos acosh asin asinh atan atan2 atanh ceil ceiling cos cosh degrees exp floor ln log log10
		log2 mod pi pow power radians sin sinh sqrt tan tanh trunc
		json json_array json_array_length json_extract json_insert json_object json_patch json_remove
		json_replace json_set json_type json_valid json_quote json_group_array json_group_object
		avg count group_concat sum total
		now clock_timestamp transaction_timestamp statement_timestamp gen_random_uuid greatest least
		position date_trunc extract btrim strpos chr ascii char_length character_length octet_length
		left right starts_with concat json_typeof jsonb_typeof repeat lpad rpad
		json_build_object jsonb_build_object json_build_array jsonb_build_array to_json to_jsonb
		jsonb_array_length json_agg jsonb_agg json_object_agg jsonb_object_agg
		has_table_privilege has_schema_privilege has_database_privilege has_column_privilege
		has_sequence_privilege has_function_privilege has_any_column_privilege has_type_privilege`) {
		stockFunctions[n] = true
	}
}

// refuseStored fails at token i: what (a function's call, an operator)
// may not be stored where it is.
func (p *parser) refuseStored(i int, what string, where schemaWhat) {
	p.unsupported(i, what+" in "+where.String()+": the schema of a portable backup calls only functions stock sqlite3 "+
		"runs as raftsql does, and this is not one (sqlite3 would fail integrity_check or writes to the table)")
}

// portableCall translates the call of the function at token i in a
// stored expression: into SQLite built-ins when it has an equivalent,
// refused when stock sqlite3 lacks it and the place is strict. ok false
// leaves the call to the usual translation.
func (p *parser) portableCall(i, start int) (int, bool) {
	where := p.schemaAt(i)
	w := p.word(i)
	if where == 0 || notCalls[w] || p.isOp(i-1, "::") || p.word(i-1) == "as" || p.word(i-1) == "using" {
		return i, false
	}
	end := p.matchParen(i + 1)
	if end < 0 {
		return i, false
	}
	var out string
	args := p.callArgs(i+2, end)
	arg := func(k int) string { return p.subExpr(args[k][0], args[k][1]) }
	// operand is argument k as an operand of an operator: in parentheses
	// unless it is one token.
	operand := func(k int) string {
		if args[k][1]-args[k][0] == 1 {
			return arg(k)
		}
		return "(" + arg(k) + ")"
	}
	switch {
	case w == "left" && len(args) == 2, w == "right" && len(args) == 2:
		s := arg(0)
		if n, ok := p.intLiteral(args[1][0], args[1][1]); ok {
			switch {
			case w == "left" && n >= 0:
				out = "substr(" + s + ", 1, " + strconv.FormatInt(n, 10) + ")"
			case w == "left":
				out = "substr(" + s + ", 1, max(length(" + s + ") - " + strconv.FormatInt(-n, 10) + ", 0))"
			case n >= 0:
				out = "substr(" + s + ", max(length(" + s + ") - " + strconv.FormatInt(n, 10) + ", 0) + 1)"
			default:
				out = "substr(" + s + ", " + strconv.FormatInt(1-n, 10) + ")"
			}
			break
		}
		n := operand(1)
		if w == "left" {
			out = "substr(" + s + ", 1, CASE WHEN " + n + " >= 0 THEN " + n + " ELSE max(length(" + s + ") + " + n + ", 0) END)"
		} else {
			out = "substr(" + s + ", CASE WHEN " + n + " >= 0 THEN max(length(" + s + ") - " + n + ", 0) + 1 ELSE 1 - " + n + " END)"
		}
	case w == "starts_with" && len(args) == 2:
		s, pre := arg(0), arg(1)
		out = "(substr(" + s + ", 1, length(" + pre + ")) = " + pre + ")"
	case w == "octet_length" && len(args) == 1:
		// hex writes every byte as two digits; a CAST to BLOB would be
		// no Postgres the text could be read as again.
		x := arg(0)
		out = "CASE WHEN " + x + " IS NOT NULL THEN length(hex(" + x + ")) / 2 END"
	case w == "concat" && len(args) > 0:
		parts := make([]string, len(args))
		for k := range args {
			parts[k] = "coalesce(" + arg(k) + ", '')"
		}
		out = "('' || " + strings.Join(parts, " || ") + ")"
	case w == "repeat" && len(args) == 2:
		n := arg(1)
		out = "CASE WHEN " + n + " IS NOT NULL THEN " + repeated(arg(0), n) + " END"
	case (w == "lpad" || w == "rpad") && (len(args) == 2 || len(args) == 3):
		s, n, fill := arg(0), operand(1), "' '"
		if len(args) == 3 {
			fill = arg(2)
		}
		pad := "substr(" + repeated(fill, n) + ", 1, " + n + " - length(" + s + "))"
		if w == "lpad" {
			pad += " || " + s
		} else {
			pad = s + " || " + pad
		}
		out = "CASE WHEN " + n + " <= length(" + s + ") THEN substr(" + s + ", 1, max(" + n + ", 0)) ELSE " + pad + " END"
		if len(args) == 3 && (args[2][1]-args[2][0] != 1 || p.kindAt(args[2][0]) != tString) {
			out = "CASE WHEN " + fill + " IS NULL THEN NULL ELSE " + out + " END" // strict, as Postgres' is
		}
	case (w == "json_typeof" || w == "jsonb_typeof") && len(args) == 1:
		out = jsonTypeofCase(arg(0))
	case w == "nextval" && where == inDefault:
		// pgwire makes such a column a serial (serialseq.go): what is
		// stored is no call.
		return i, false
	case !stockFunctions[w] && where.strict(), w == "trunc" && len(args) != 1 && where.strict():
		p.refuseStored(i, w+"()", where)
		return i + 1, true
	default:
		return i, false
	}
	if p.err != nil {
		return end + 1, true
	}
	p.replace(i, out)
	p.last = int(p.toks[end].end) // the arguments are in out
	p.prim, p.primLo = start, i
	return end + 1, true
}

// extract(epoch from x) in a stored expression: the seconds since 1970 to
// the millisecond, as unixepoch(x, 'subsec') gives them in SQLite 3.42 and
// later, from julianday, which every sqlite3 has.
const (
	epochOpen  = "round((julianday("
	epochClose = ") - 2440587.5) * 86400, 3)"
)

// repeated is s repeated n times, in SQLite's built-ins: n zero bytes
// written in hex, each "00" replaced by s (” for n <= 0 or NULL).
func repeated(s, n string) string {
	return "replace(hex(zeroblob(" + n + ")), '00', " + s + ")"
}

// jsonTypeofCase is json_typeof(j) in SQLite's terms: json_type's names
// mapped to Postgres'.
func jsonTypeofCase(j string) string {
	return "CASE json_type(" + j + ") WHEN 'object' THEN 'object' WHEN 'array' THEN 'array' WHEN 'text' THEN 'string' " +
		"WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' " +
		"WHEN 'null' THEN 'null' END"
}

// jsonTextCase is x ->> k as Postgres gives it (jsonop.go) in SQLite's
// built-ins: the string a JSON string holds (SQLite's ->>), NULL for a
// JSON null, else the value's JSON text (SQLite's ->). Its key in
// parentheses keeps SQLite's ->> when the text is read again (a SQL dump
// loaded through psql), so that it translates to itself.
func jsonTextCase(x, k string) string {
	return "CASE json_type(" + x + " -> " + k + ") WHEN 'text' THEN " + x + " ->> (" + k + ") WHEN 'null' THEN NULL ELSE " +
		x + " -> " + k + " END"
}

// callArgs splits tokens [a, b) at their top-level commas.
func (p *parser) callArgs(a, b int) [][2]int {
	if a >= b {
		return nil
	}
	var out [][2]int
	depth, lo := 0, a
	for j := a; j < b; j++ {
		switch {
		case p.isPunct(j, '(') || p.isPunct(j, '['):
			depth++
		case p.isPunct(j, ')') || p.isPunct(j, ']'):
			depth--
		case depth == 0 && p.isPunct(j, ','):
			out = append(out, [2]int{lo, j})
			lo = j + 1
		}
	}
	return append(out, [2]int{lo, b})
}

// intLiteral reads tokens [a, b) as an integer literal with an optional
// sign.
func (p *parser) intLiteral(a, b int) (int64, bool) {
	neg := false
	if b-a == 2 && (p.isOp(a, "-") || p.isOp(a, "+")) {
		neg = p.isOp(a, "-")
		a++
	}
	if b-a != 1 || p.kindAt(a) != tNumber {
		return 0, false
	}
	n, err := strconv.ParseInt(p.text(a), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}
