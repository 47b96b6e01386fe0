package pgwire

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/raftsql/raftsql/pgwire/pgsql/catalog"
)

// Enum types (CREATE TYPE name AS ENUM ('a', 'b'), DROP TYPE) are rows of
// one table, raftsql_enums, which the first CREATE TYPE makes: a type's
// name and its labels, in their order, as a JSON array. A column declared
// with the type keeps the type's name as its declared type, for the
// catalogs, and gets a CHECK constraint that the CREATE TABLE or ALTER
// TABLE … ADD COLUMN rewrite adds:
//
//	m mood CONSTRAINT "raftsql_enum:mood" CHECK (m IN ('sad', 'ok', 'happy'))
//
// so every write path (INSERT, UPDATE, COPY, triggers) refuses a value
// that is no label, on every node alike and in a plain SQLite opening a
// backup. The server reports that constraint's failure as Postgres
// reports a bad enum value, 22P02 (EnumCheckType).
//
// The labels are read inside the statement's own transaction block, after
// its first write: on the leader, which no other writer changes before
// the block commits; the CHECK is then text of the statement the log
// carries, so every node applies the same definition whatever its own
// copy of raftsql_enums said when the statement arrived.
//
// Values are text: a cast 'ok'::mood is the text 'ok', and ORDER BY sorts
// an enum column as text, not in the order of its labels.

// enumTable is the definition of the table that holds the enum types.
const enumTable = "CREATE TABLE IF NOT EXISTS raftsql_enums (name TEXT PRIMARY KEY, labels TEXT NOT NULL)"

// enumCheckPrefix starts the name of the CHECK constraint of a column of
// an enum type; the type's name follows it.
const enumCheckPrefix = catalog.EnumCheckPrefix

// EnumCheckType is the enum type whose CHECK constraint a failed CHECK
// constraint's name (as SQLite's message gives it) is, if it is one.
func EnumCheckType(constraint string) (string, bool) {
	return strings.CutPrefix(constraint, enumCheckPrefix)
}

// EnumColumns are the columns of a table whose definition is def (its
// CREATE TABLE statement) that are of enum type typ, bare.
func EnumColumns(def, typ string) []string {
	cols := enumColumns(def, typ)
	for i, c := range cols {
		cols[i] = bare(c)
	}
	return cols
}

// typeDisplay is a type's name as Postgres' messages show it (as
// format_type does): as it is when it is lower-case letters, digits and
// underscores, else quoted.
func typeDisplay(name string) string {
	plain := name != "" && !('0' <= name[0] && name[0] <= '9')
	for i := 0; i < len(name) && plain; i++ {
		c := name[i]
		plain = c == '_' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
	}
	if plain {
		return name
	}
	return quoteIdent(name)
}

// enumCheckName is the quoted name of the CHECK constraint of a column of
// type typ.
func enumCheckName(typ string) string { return quoteIdent(enumCheckPrefix + typ) }

// enumCheck is the column constraint that keeps column col (as written)
// to labels.
func enumCheck(typ, col string, labels []string) string {
	quoted := make([]string, len(labels))
	for i, l := range labels {
		quoted[i] = quoteLiteral(l)
	}
	return "CONSTRAINT " + enumCheckName(typ) + " CHECK (" + col + " IN (" + strings.Join(quoted, ", ") + "))"
}

// enumDDL is a CREATE TYPE … AS ENUM or a DROP TYPE, which runEnumDDL
// runs.
type enumDDL struct {
	drop     bool
	names    []string // CREATE, ALTER: one
	labels   []string // CREATE
	ifExists bool     // DROP … IF EXISTS
	cascade  bool     // DROP … CASCADE
	// alter is ALTER TYPE's ADD VALUE or RENAME VALUE; "" for CREATE and
	// DROP.
	alter string
	// label is the value ADD VALUE adds, or RENAME VALUE's old one;
	// other the label of BEFORE or AFTER, or the new name.
	label, other string
	after        bool // ADD VALUE … AFTER other
	ifNotExists  bool // ADD VALUE IF NOT EXISTS
}

// stringToken is the value of the string literal at token i, in the
// front end's SQLite text ('…', quotes doubled).
func stringToken(tl tokenList, i int) (string, bool) {
	if i >= len(tl.toks) || tl.toks[i].kind != tkString {
		return "", false
	}
	s := tl.text(i)
	if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
		return "", false
	}
	return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), true
}

// translateCreateType reads CREATE TYPE [schema.]name AS ENUM ('a', …).
// Other kinds of CREATE TYPE (composite, range) are not rewritten.
func translateCreateType(tl tokenList) (translated, bool) {
	word := tl.word
	name, i, ok := qualifiedName(tl, 2)
	if !ok || word(i) != "as" || word(i+1) != "enum" || textAt(tl, i+2) != "(" || textAt(tl, len(tl.toks)-1) != ")" {
		return translated{}, false
	}
	var labels []string
	seen := map[string]bool{}
	for j := i + 3; j < len(tl.toks)-1; j++ {
		if len(labels) > 0 {
			if textAt(tl, j) != "," {
				return translated{}, false
			}
			j++
		}
		l, ok := stringToken(tl, j)
		if !ok {
			return translated{}, false
		}
		if seen[l] {
			return translated{tag: "CREATE TYPE", err: newError("42710", fmt.Sprintf("enum label %q used more than once", l))}, true
		}
		if len(l) == 0 || len(l) > 63 {
			e := newError("22023", fmt.Sprintf("invalid enum label %q", l))
			e.Detail = "Labels must be 63 bytes or less."
			if len(l) == 0 {
				e.Detail = "Labels must not be empty."
			}
			return translated{tag: "CREATE TYPE", err: e}, true
		}
		seen[l] = true
		labels = append(labels, l)
	}
	if labels == nil {
		labels = []string{}
	}
	return translated{tag: "CREATE TYPE", enum: &enumDDL{names: []string{name}, labels: labels}}, true
}

// translateDropType reads DROP TYPE [IF EXISTS] a, b [CASCADE | RESTRICT].
func translateDropType(tl tokenList) (translated, bool) {
	word := tl.word
	d := &enumDDL{drop: true}
	i := 2
	if word(2) == "if" && word(3) == "exists" {
		i, d.ifExists = 4, true
	}
	for {
		name, j, ok := qualifiedName(tl, i)
		if !ok {
			return translated{}, false
		}
		d.names, i = append(d.names, name), j
		if textAt(tl, i) != "," {
			break
		}
		i++
	}
	switch word(i) {
	case "cascade":
		d.cascade, i = true, i+1
	case "restrict":
		i++
	}
	if i != len(tl.toks) {
		return translated{}, false
	}
	return translated{tag: "DROP TYPE", enum: d}, true
}

// inBlock runs f inside the session's transaction block, or one of its
// own that commits if f succeeds and rolls back if it fails.
func (c *conn) inBlock(f func() *Error) *Error {
	implicit := c.sess.TxStatus() == 'I'
	if implicit {
		if _, e := c.execute("BEGIN", nil); e != nil {
			return e
		}
	}
	failed := f()
	if implicit {
		end := "COMMIT"
		if failed != nil {
			end = "ROLLBACK"
		}
		if _, e := c.execute(end, nil); e != nil && failed == nil {
			failed = e
		}
	}
	return failed
}

// enumLabels reads the labels of the enum type name, inside a block after
// its first write; ok false when there is no such type.
func (c *conn) enumLabels(name string) ([]string, bool, *Error) {
	r, e := c.execute("SELECT labels FROM raftsql_enums WHERE name = $1", []any{name})
	if e != nil || len(r.Rows) == 0 {
		return nil, false, e
	}
	s, _ := r.Rows[0][0].(string)
	var labels []string
	if err := json.Unmarshal([]byte(s), &labels); err != nil {
		return nil, false, newError(codeInternalError, fmt.Sprintf("labels of type %q: %v", name, err))
	}
	return labels, true, nil
}

// enumDependents are the columns whose CHECK constraint is the enum type
// name's, as [table, column] (both as written in the table's definition).
func (c *conn) enumDependents(name string) ([][2]string, *Error) {
	r, e := c.execute("SELECT name, sql FROM main.sqlite_schema WHERE type = 'table' AND instr(sql, $1) > 0 ORDER BY name",
		[]any{enumCheckName(name)})
	if e != nil {
		return nil, e
	}
	var out [][2]string
	for _, row := range r.Rows {
		table, _ := row[0].(string)
		def, _ := row[1].(string)
		for _, col := range enumColumns(def, name) {
			out = append(out, [2]string{table, col})
		}
	}
	return out, nil
}

// enumColumns are the columns of a CREATE TABLE statement, def, that
// carry the CHECK constraint of enum type name.
func enumColumns(def, name string) []string {
	tl := lexStatement(def)
	open := -1
	for i := range tl.toks {
		if tl.text(i) == "(" {
			open = i
			break
		}
	}
	if open < 0 {
		return nil
	}
	closing := matching(tl, open)
	if closing < 0 {
		return nil
	}
	check := enumCheckName(name)
	var cols []string
	for _, e := range splitElements(tl, open+1, closing) {
		if !e.column {
			continue
		}
		for k := e.typeEnd; k < e.to; k++ {
			if tl.toks[k].kind == tkQIdent && tl.text(k) == check {
				cols = append(cols, tl.text(e.from))
				break
			}
		}
	}
	return cols
}

// runEnumDDL runs a CREATE TYPE … AS ENUM, ALTER TYPE or DROP TYPE.
func (c *conn) runEnumDDL(tag string, d *enumDDL) (*Result, *Error) {
	e := c.inBlock(func() *Error {
		// The first write: what is read after it is the leader's state.
		if _, e := c.execute(enumTable, nil); e != nil {
			return e
		}
		if d.alter != "" {
			return c.alterEnum(d)
		}
		if !d.drop {
			labels, _ := json.Marshal(d.labels)
			_, e := c.execute("INSERT INTO raftsql_enums (name, labels) VALUES ($1, $2)", []any{d.names[0], string(labels)})
			if e != nil && e.Code == "23505" {
				return newError("42710", fmt.Sprintf("type %q already exists", d.names[0]))
			}
			return e
		}
		for _, name := range d.names {
			if _, ok, e := c.enumLabels(name); e != nil || !ok {
				if e == nil && !d.ifExists {
					e = newError("42704", fmt.Sprintf("type %q does not exist", name))
				}
				if e != nil {
					return e
				}
				continue
			}
			deps, e := c.enumDependents(name)
			if e != nil {
				return e
			}
			if len(deps) > 0 && !d.cascade {
				e := newError("2BP01", fmt.Sprintf("cannot drop type %s because other objects depend on it", typeDisplay(name)))
				var lines []string
				for _, dep := range deps {
					lines = append(lines, fmt.Sprintf("column %s of table %s depends on type %s", bare(dep[1]), dep[0], typeDisplay(name)))
				}
				e.Detail = strings.Join(lines, "\n")
				e.Hint = "Use DROP ... CASCADE to drop the dependent objects too."
				return e
			}
			for _, dep := range deps {
				// The column goes with its type, as Postgres' CASCADE does.
				if _, e := c.execute("ALTER TABLE "+quoteIdent(dep[0])+" DROP COLUMN "+dep[1], nil); e != nil {
					return e
				}
			}
			if _, e := c.execute("DELETE FROM raftsql_enums WHERE name = $1", []any{name}); e != nil {
				return e
			}
		}
		return nil
	})
	if e != nil {
		return nil, e
	}
	return &Result{Tag: tag}, nil
}

// typedColumn is a column definition in a statement's text whose type is
// one name: the byte offset after the type, the column's name as written
// and the type's name.
type typedColumn struct {
	at       int
	col, typ string
}

// enumCandidates are the column definitions of a CREATE TABLE (…) or an
// ALTER TABLE … ADD [COLUMN] statement, sql, whose type is one name that
// is not a built-in type's.
func enumCandidates(sql string) []typedColumn {
	tl := lexStatement(sql)
	word := tl.word
	var elems []tableElement
	switch {
	case word(0) == "create":
		i := 1
		for word(i) == "unlogged" || word(i) == "temp" || word(i) == "temporary" {
			i++
		}
		if word(i) != "table" {
			return nil
		}
		open := -1
		for k := i + 1; k < len(tl.toks); k++ {
			if tl.text(k) == "(" {
				open = k
				break
			}
			if word(k) == "as" {
				return nil
			}
		}
		if open < 0 {
			return nil
		}
		closing := matching(tl, open)
		if closing < 0 {
			return nil
		}
		elems = splitElements(tl, open+1, closing)
	case word(0) == "alter" && word(1) == "table":
		add := -1
		for k := 2; k < len(tl.toks); k++ {
			if word(k) == "add" {
				add = k
				break
			}
		}
		from := add + 1
		if word(from) == "column" {
			from++
			if word(from) == "if" && word(from+1) == "not" && word(from+2) == "exists" {
				from += 3
			}
		}
		if add < 0 || from+1 >= len(tl.toks) || tableConstraintStarts[word(from)] {
			return nil
		}
		elems = []tableElement{readElement(tl, from, len(tl.toks))}
	default:
		return nil
	}
	var out []typedColumn
	for _, e := range elems {
		if !e.column || e.typeEnd != e.from+2 {
			continue
		}
		t := e.from + 1
		if k := tl.toks[t].kind; k != tkWord && k != tkQIdent {
			continue
		}
		typ := bare(tl.text(t))
		if builtinTypeNames[typ] || hasToken(tl, e.typeEnd, e.to, enumCheckName(typ)) {
			continue // a definition that has its CHECK (a rebuilt table's) keeps it
		}
		out = append(out, typedColumn{at: tl.toks[t].end, col: tl.text(e.from), typ: typ})
	}
	return out
}

// hasToken reports whether one of tokens [from, to) is text.
func hasToken(tl tokenList, from, to int, text string) bool {
	for k := from; k < to && k < len(tl.toks); k++ {
		if tl.text(k) == text {
			return true
		}
	}
	return false
}

// builtinTypeNames are one-word type names that are never an enum's
// column here: statements that use only these skip the look for enums.
var builtinTypeNames = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`int integer int2 int4 int8 smallint bigint tinyint mediumint serial bigserial
		smallserial serial2 serial4 serial8 real float float4 float8 double numeric decimal bool boolean text
		varchar char character bpchar name bytea blob date time timetz timestamp timestamptz datetime interval
		uuid json jsonb xml inet cidr macaddr money oid bit varbit regclass citext clob string`) {
		builtinTypeNames[n] = true
	}
}

// enumTypesExist reports whether the database has the table of enum
// types, without failing a transaction block when it has not.
func (c *conn) enumTypesExist() bool {
	r, e := c.execute("SELECT count(*) FROM main.sqlite_schema WHERE type = 'table' AND name = 'raftsql_enums'", nil)
	if e != nil || len(r.Rows) != 1 {
		return false
	}
	n, _ := r.Rows[0][0].(int64)
	return n > 0
}

// withEnumChecks is the rewriting of ddl, a CREATE TABLE or ALTER TABLE …
// ADD COLUMN in the front end's text (and t, ok what translateDDL made of
// it), for columns of an enum type: t with enumChecks set, which
// runTranslated then completes with the types' CHECK constraints. Where
// no column may be of an enum type, or there are none, t and ok are
// returned as they are.
func (c *conn) withEnumChecks(ddl string, t translated, ok bool) (translated, bool) {
	if c.enumChecked || t.err != nil || t.rebuild != nil || t.enum != nil || len(enumCandidates(ddl)) == 0 || !c.enumTypesExist() {
		return t, ok
	}
	if !ok {
		tag := "CREATE TABLE"
		if strings.EqualFold(lexStatement(ddl).word(0), "alter") {
			tag = "ALTER TABLE"
		}
		t = translated{tag: tag, stmts: []string{ddl}}
	}
	t.enumChecks = true
	return t, true
}

// addEnumChecks adds to each CREATE TABLE and ALTER TABLE … ADD COLUMN of
// stmts the CHECK constraints of its columns of enum types, read inside
// the block after its first write.
func (c *conn) addEnumChecks(stmts []string) ([]string, *Error) {
	out := make([]string, len(stmts))
	for i, s := range stmts {
		var b strings.Builder
		at := 0
		for _, col := range enumCandidates(s) {
			labels, ok, e := c.enumLabels(col.typ)
			if e != nil {
				return nil, e
			}
			if !ok {
				continue
			}
			b.WriteString(s[at:col.at])
			b.WriteString(" " + enumCheck(col.typ, col.col, labels))
			at = col.at
		}
		b.WriteString(s[at:])
		out[i] = b.String()
	}
	return out, nil
}

// runEnumChecked runs t, whose enumChecks is set: in a block, its
// statements with the CHECK constraints of their enum columns.
func (c *conn) runEnumChecked(t translated) (*Result, *Error) {
	e := c.inBlock(func() *Error {
		if _, e := c.execute(enumTable, nil); e != nil {
			return e
		}
		stmts, e := c.addEnumChecks(t.stmts)
		if e != nil {
			return e
		}
		c.enumChecked = true
		defer func() { c.enumChecked = false }()
		for _, s := range stmts {
			if _, e := c.execute(s, nil); e != nil {
				return e
			}
		}
		return nil
	})
	if e != nil {
		return nil, e
	}
	return &Result{Tag: t.tag}, nil
}

// translateAlterType reads ALTER TYPE name ADD VALUE [IF NOT EXISTS] 'x'
// [BEFORE | AFTER 'y'] and ALTER TYPE name RENAME VALUE 'a' TO 'b'.
func translateAlterType(tl tokenList) (translated, bool) {
	word := tl.word
	name, i, ok := qualifiedName(tl, 2)
	if !ok {
		return translated{}, false
	}
	d := &enumDDL{names: []string{name}}
	switch {
	case word(i) == "add" && word(i+1) == "value":
		d.alter, i = "add", i+2
		if word(i) == "if" && word(i+1) == "not" && word(i+2) == "exists" {
			d.ifNotExists, i = true, i+3
		}
		if d.label, ok = stringToken(tl, i); !ok {
			return translated{}, false
		}
		i++
		if w := word(i); w == "before" || w == "after" {
			if d.other, ok = stringToken(tl, i+1); !ok {
				return translated{}, false
			}
			d.after, i = w == "after", i+2
		}
	case word(i) == "rename" && word(i+1) == "value":
		d.alter = "rename"
		if d.label, ok = stringToken(tl, i+2); !ok || word(i+3) != "to" {
			return translated{}, false
		}
		if d.other, ok = stringToken(tl, i+4); !ok {
			return translated{}, false
		}
		i += 5
	default:
		return translated{}, false
	}
	if i != len(tl.toks) {
		return translated{}, false
	}
	if len(d.label) == 0 || len(d.label) > 63 || d.alter == "rename" && (len(d.other) == 0 || len(d.other) > 63) {
		return translated{tag: "ALTER TYPE", err: newError("22023", "invalid enum label")}, true
	}
	return translated{tag: "ALTER TYPE", enum: d}, true
}

// alterEnum runs an ALTER TYPE … ADD VALUE or RENAME VALUE, in a block
// after its first write: the labels stored, and every table with a column
// of the type rebuilt with the CHECK constraint of the new labels (a
// renamed label renamed in its rows too).
func (c *conn) alterEnum(d *enumDDL) *Error {
	name := d.names[0]
	labels, ok, e := c.enumLabels(name)
	if e != nil {
		return e
	}
	if !ok {
		return newError("42704", fmt.Sprintf("type %q does not exist", name))
	}
	at := func(l string) int {
		for k, x := range labels {
			if x == l {
				return k
			}
		}
		return -1
	}
	switch d.alter {
	case "add":
		if at(d.label) >= 0 {
			if d.ifNotExists {
				return nil
			}
			return newError("42710", fmt.Sprintf("enum label %q already exists", d.label))
		}
		k := len(labels)
		if d.other != "" {
			if k = at(d.other); k < 0 {
				return newError("22023", fmt.Sprintf("%q is not an existing enum label", d.other))
			}
			if d.after {
				k++
			}
		}
		labels = append(labels[:k], append([]string{d.label}, labels[k:]...)...)
	case "rename":
		k := at(d.label)
		if k < 0 {
			return newError("22023", fmt.Sprintf("%q is not an existing enum label", d.label))
		}
		if at(d.other) >= 0 {
			return newError("42710", fmt.Sprintf("enum label %q already exists", d.other))
		}
		labels[k] = d.other
	}
	js, _ := json.Marshal(labels)
	if _, e := c.execute("UPDATE raftsql_enums SET labels = $1 WHERE name = $2", []any{string(js), name}); e != nil {
		return e
	}
	deps, e := c.enumDependents(name)
	if e != nil {
		return e
	}
	byTable := map[string][]string{}
	var tables []string
	for _, dep := range deps {
		if byTable[dep[0]] == nil {
			tables = append(tables, dep[0])
		}
		byTable[dep[0]] = append(byTable[dep[0]], dep[1])
	}
	for _, table := range tables {
		p := &rebuildPlan{table: quoteIdent(table), redefine: func(create string) string { return replaceEnumChecks(create, name, labels) }}
		if d.alter == "rename" {
			for _, col := range byTable[table] {
				// The column keeps its type; its rows take the new label.
				p.actions = append(p.actions, alterAction{kind: alterType, column: bare(col), text: quoteIdent(name),
					using: "CASE WHEN " + col + " = " + quoteLiteral(d.label) + " THEN " + quoteLiteral(d.other) + " ELSE " + col + " END"})
			}
		}
		if e := c.rebuild(p); e != nil {
			return e
		}
	}
	return nil
}

// replaceEnumChecks is def, a CREATE TABLE statement, with the CHECK
// constraint of enum type typ of each of its columns that has one given
// labels.
func replaceEnumChecks(def, typ string, labels []string) string {
	tl := lexStatement(def)
	check := enumCheckName(typ)
	var b strings.Builder
	at := 0
	open := -1
	for i := range tl.toks {
		if tl.text(i) == "(" {
			open = i
			break
		}
	}
	if open < 0 || matching(tl, open) < 0 {
		return def
	}
	for _, e := range splitElements(tl, open+1, matching(tl, open)) {
		if !e.column {
			continue
		}
		for k := e.typeEnd; k+3 < e.to; k++ {
			if tl.word(k) != "constraint" || tl.toks[k+1].kind != tkQIdent || tl.text(k+1) != check || tl.word(k+2) != "check" || tl.text(k+3) != "(" {
				continue
			}
			end := matching(tl, k+3)
			if end < 0 {
				break
			}
			b.WriteString(def[at:tl.toks[k].start])
			b.WriteString(enumCheck(typ, tl.text(e.from), labels))
			at = tl.toks[end].end
			break
		}
	}
	b.WriteString(def[at:])
	return b.String()
}
