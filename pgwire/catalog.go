package pgwire

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// This file answers the catalog queries of psql's describe commands (\d,
// \dt, \di, \dv, \d NAME, \dn, \l, \df) from what the session reports of
// its relations, since the database behind a session has no pg_catalog.
// A query is recognised by what it reads (pg_class with a relkind list,
// pg_attribute of one relation, ...) and each item of its select list is
// answered by what it asks for, so the variants psql sends for other
// server versions and for \d+ are answered too; an item not recognised is
// NULL. Other catalog queries reach the session, which refuses them.

// RelationKind is the kind of a relation, as pg_class.relkind spells it.
type RelationKind byte

// The kinds of relation a SchemaReader reports.
const (
	RelationTable RelationKind = 'r'
	RelationView  RelationKind = 'v'
	RelationIndex RelationKind = 'i'
)

// Relation is a table, view or index of the session's database.
type Relation struct {
	Name string
	Kind RelationKind
	// Columns of a table or view, in order.
	Columns []RelationColumn
	// For an index: the table it indexes, its columns (or expressions),
	// whether it is unique, and whether it backs the primary key or a
	// UNIQUE constraint rather than being created on its own.
	Table        string
	IndexColumns []string
	Unique       bool
	Primary      bool
	Constraint   bool
	// For a view: the query it stands for.
	Definition string
	// For a table: its foreign keys.
	ForeignKeys []ForeignKey
}

// ForeignKey is a table's reference to another table.
type ForeignKey struct {
	Name       string
	Columns    []string
	RefTable   string
	RefColumns []string // empty: the referenced table's primary key
	OnUpdate   string   // as SQL spells it: CASCADE, SET NULL, …; "" or NO ACTION for none
	OnDelete   string
}

// definition is the foreign key as pg_get_constraintdef shows it.
func (fk ForeignKey) definition() string {
	d := "FOREIGN KEY (" + strings.Join(fk.Columns, ", ") + ") REFERENCES " + fk.RefTable
	if len(fk.RefColumns) > 0 {
		d += "(" + strings.Join(fk.RefColumns, ", ") + ")"
	}
	for _, a := range []struct{ on, action string }{{"UPDATE", fk.OnUpdate}, {"DELETE", fk.OnDelete}} {
		if a.action != "" && !strings.EqualFold(a.action, "NO ACTION") {
			d += " ON " + a.on + " " + strings.ToUpper(a.action)
		}
	}
	return d
}

// RelationColumn is a column of a table or view.
type RelationColumn struct {
	Name    string
	Type    string // as declared; "" when not
	NotNull bool
	Default string // the default expression; "" when there is none
}

// SchemaReader is implemented by a Session that can list its database's
// relations; pgwire then answers psql's describe commands.
type SchemaReader interface {
	Relations(ctx context.Context) ([]Relation, error)
}

// catalogKind is which catalog question a query asks.
type catalogKind int

const (
	catalogList         catalogKind = iota + 1 // \d, \dt, \di, \dv ...: relations by kind and name
	catalogLookup                              // \d NAME, first step: the relations named so
	catalogRelation                            // \d NAME: one relation's flags
	catalogColumns                             // \d NAME: its columns
	catalogIndexes                             // \d NAME: its indexes
	catalogIndex                               // \d INDEX: the index's flags
	catalogViewDef                             // \d+ VIEW: the view's query
	catalogForeignKeys                         // \d NAME: its foreign keys
	catalogReferencedBy                        // \d NAME: the foreign keys to it
	catalogRoles                               // \du
	catalogSchemas                             // \dn
	catalogDatabases                           // \l
	catalogNothing                             // policies, statistics, publications, inheritance, functions: none
)

// catalogQuery is a recognised catalog query.
type catalogQuery struct {
	kind  catalogKind
	items []string // the select list, lower-cased, whitespace collapsed
	names []string // the result column names
	// the filters it carries
	relkinds string // the relkind IN list, as letters
	pattern  string // a regular expression on the relation name
	nspOK    bool   // no schema pattern, or one that matches "public"
	oid      int64  // the relation asked about
}

var (
	reRelkinds   = regexp.MustCompile(`c\.relkind in \(([^)]*)\)`)
	reRelPattern = regexp.MustCompile(`(?i)c\.relname operator\(pg_catalog\.~\) '((?:[^']|'')*)'`)
	reNspPattern = regexp.MustCompile(`(?i)n\.nspname operator\(pg_catalog\.~\) '((?:[^']|'')*)'`)
	reOID        = regexp.MustCompile(`(?:c\.oid|a\.attrelid|r\.conrelid) = '(\d+)'`)
	reQuotedOID  = regexp.MustCompile(`'(\d+)'`)
	reViewDef    = regexp.MustCompile(`^select pg_catalog\.pg_get_viewdef\('(\d+)'::pg_catalog\.oid, true\)$`)
)

// matchCatalog recognises the catalog queries this file answers.
func matchCatalog(sql string) (catalogQuery, bool) {
	orig := strings.Join(strings.Fields(sql), " ")
	orig = strings.TrimSuffix(strings.TrimSpace(orig), ";")
	low := asciiLower(orig) // same length as orig, so offsets carry over
	if !strings.HasPrefix(low, "select ") || !strings.Contains(low, "pg_catalog.") {
		return catalogQuery{}, false
	}
	if m := reViewDef.FindStringSubmatch(low); m != nil {
		oid, _ := strconv.ParseInt(m[1], 10, 64)
		return catalogQuery{kind: catalogViewDef, items: []string{"pg_get_viewdef"}, names: []string{"pg_get_viewdef"}, oid: oid}, true
	}
	from := topLevelFrom(low)
	if from < len("select ") || !strings.HasPrefix(low[from:], " from pg_catalog.") {
		return catalogQuery{}, false
	}
	q := catalogQuery{items: splitTopLevel(low[len("select "):from]), nspOK: true}
	for _, it := range splitTopLevel(orig[len("select "):from]) {
		q.names = append(q.names, itemName(it))
	}
	rest := low[from:]
	if m := reNspPattern.FindStringSubmatch(orig); m != nil {
		re, err := regexp.Compile(strings.ReplaceAll(m[1], "''", "'"))
		q.nspOK = err == nil && re.MatchString("public")
	}
	if m := reRelPattern.FindStringSubmatch(orig); m != nil {
		q.pattern = strings.ReplaceAll(m[1], "''", "'")
	}
	if m := reOID.FindStringSubmatch(low); m != nil {
		q.oid, _ = strconv.ParseInt(m[1], 10, 64)
	}
	switch {
	case strings.HasPrefix(rest, " from pg_catalog.pg_class c ") && strings.Contains(low, "c.relkind in ("):
		q.kind = catalogList
		if m := reRelkinds.FindStringSubmatch(low); m != nil {
			q.relkinds = strings.NewReplacer("'", "", ",", "", " ", "").Replace(m[1])
		}
	case strings.HasPrefix(low, "select c.oid, n.nspname, c.relname from pg_catalog.pg_class c "):
		q.kind = catalogLookup
	case strings.HasPrefix(low, "select c.relchecks, c.relkind, "):
		q.kind = catalogRelation
	case strings.HasPrefix(rest, " from pg_catalog.pg_attribute a where a.attrelid = '"):
		q.kind = catalogColumns
	case strings.HasPrefix(low, "select c2.relname, i.indisprimary, i.indisunique, "):
		q.kind = catalogIndexes
	case strings.HasPrefix(low, "select i.indisunique, i.indisprimary, "):
		q.kind = catalogIndex
	case strings.HasPrefix(rest, " from pg_catalog.pg_namespace n "):
		q.kind = catalogSchemas
	case strings.HasPrefix(rest, " from pg_catalog.pg_roles r "):
		q.kind = catalogRoles
	case strings.HasPrefix(rest, " from pg_catalog.pg_database d"):
		q.kind = catalogDatabases
	case strings.HasPrefix(rest, " from pg_catalog.pg_policy pol "),
		strings.HasPrefix(rest, " from pg_catalog.pg_statistic_ext "),
		strings.HasPrefix(rest, " from pg_catalog.pg_publication p "),
		strings.HasPrefix(rest, " from pg_catalog.pg_class c, pg_catalog.pg_inherits i "),
		strings.HasPrefix(rest, " from pg_catalog.pg_proc p "),
		strings.HasPrefix(rest, " from pg_catalog.pg_extension e "),
		strings.HasPrefix(rest, " from pg_catalog.pg_type t "),
		strings.HasPrefix(rest, " from pg_catalog.pg_trigger t "),
		strings.HasPrefix(rest, " from pg_catalog.pg_constraint r ") && !strings.Contains(low, "contype = 'f'"):
		q.kind = catalogNothing
	case strings.HasPrefix(rest, " from pg_catalog.pg_constraint r ") && strings.Contains(low, "r.conrelid = '"):
		q.kind = catalogForeignKeys
	case strings.HasPrefix(rest, " from pg_catalog.pg_constraint c ") && strings.Contains(low, "confrelid in ") && strings.Contains(low, "contype = 'f'"):
		q.kind = catalogReferencedBy
		if m := reQuotedOID.FindStringSubmatch(low); m != nil {
			q.oid, _ = strconv.ParseInt(m[1], 10, 64)
		}
	default:
		return catalogQuery{}, false
	}
	return q, true
}

// eachTopLevel calls visit with the offset of each byte of s that is
// outside quotes and parentheses, until visit returns false.
func eachTopLevel(s string, visit func(i int) bool) {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == '(':
			depth++
		case ch == ')':
			depth--
		case depth == 0:
			if !visit(i) {
				return
			}
		}
	}
}

// topLevelFrom returns where the FROM of the outermost SELECT in s starts
// (at the space before it), or -1.
func topLevelFrom(s string) int {
	at := -1
	eachTopLevel(s, func(i int) bool {
		if s[i] == ' ' && strings.HasPrefix(s[i:], " from ") {
			at = i
		}
		return at < 0
	})
	return at
}

// splitTopLevel splits a select list at the commas outside parentheses and
// quotes.
func splitTopLevel(s string) []string {
	var out []string
	start := 0
	eachTopLevel(s, func(i int) bool {
		if s[i] == ',' {
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
		return true
	})
	return append(out, strings.TrimSpace(s[start:]))
}

// itemName is the result column name of a select item: its alias, else
// the last name in it, as Postgres names an unaliased column.
func itemName(item string) string {
	if i := strings.LastIndex(strings.ToLower(item), " as "); i >= 0 {
		name := item[i+4:]
		if strings.HasPrefix(name, `"`) {
			return strings.Trim(name, `"`)
		}
		return strings.ToLower(name)
	}
	item = strings.ToLower(item)
	if strings.HasPrefix(item, "'") || strings.HasPrefix(item, "(") || strings.HasPrefix(item, "case") {
		return "?column?"
	}
	name, _, _ := strings.Cut(item, "::") // a cast keeps the column's name
	if i := strings.IndexByte(name, '('); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// catalogOIDBase is the OID of the first relation; Postgres gives user
// objects OIDs from 16384 on.
const catalogOIDBase = 16384

// runCatalog answers q from the session's relations.
func (c *conn) runCatalog(q catalogQuery) (*Result, *Error) {
	if c.sess.TxStatus() == 'E' {
		return nil, newError(codeInFailedTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	var rels []Relation
	if q.kind != catalogNothing && q.kind != catalogSchemas && q.kind != catalogDatabases && q.kind != catalogRoles {
		sr, ok := c.sess.(SchemaReader)
		if !ok {
			return nil, newError(codeFeatureNotSupported, "this server does not describe its relations")
		}
		ctx, done := c.execContext()
		var err error
		rels, err = sr.Relations(ctx)
		if done() {
			return nil, newError(codeQueryCanceled, "canceling statement due to user request")
		}
		if err != nil {
			return nil, toError(err)
		}
		sort.Slice(rels, func(i, j int) bool { return rels[i].Name < rels[j].Name })
	}
	res := &Result{Columns: make([]Column, len(q.items))}
	for i, name := range q.names {
		res.Columns[i] = Column{Name: name, DeclType: textColumn}
	}
	user := c.set.vals["session_authorization"]
	row := func(values func(item string) any) {
		r := make([]any, len(q.items))
		for i, it := range q.items {
			r[i] = values(it)
		}
		res.Rows = append(res.Rows, r)
	}
	byOID := func() (Relation, bool) {
		i := int(q.oid - catalogOIDBase)
		if i < 0 || i >= len(rels) {
			return Relation{}, false
		}
		return rels[i], true
	}
	switch q.kind {
	case catalogList, catalogLookup:
		var re *regexp.Regexp
		if q.pattern != "" {
			var err error
			// Case-insensitive, as the session's SQL names are: psql folds
			// \d T1 to t1, and a table created as T1 is still T1.
			if re, err = regexp.Compile("(?i)" + q.pattern); err != nil {
				return nil, newError("2201B", fmt.Sprintf("invalid regular expression: %v", err))
			}
		}
		for i, r := range rels {
			if !q.nspOK || re != nil && !re.MatchString(r.Name) {
				continue
			}
			if q.kind == catalogList && !strings.ContainsRune(q.relkinds, rune(r.Kind)) {
				continue
			}
			oid := int64(catalogOIDBase + i)
			row(func(item string) any { return relationItem(item, r, oid, user) })
		}
	case catalogRelation:
		if r, ok := byOID(); ok {
			hasIndex := r.Kind == RelationTable && hasIndexes(rels, r.Name)
			hasFKs := r.Kind == RelationTable && (len(r.ForeignKeys) > 0 || referenced(rels, r.Name))
			row(func(item string) any { return relationFlag(item, r, hasIndex, hasFKs) })
		}
	case catalogColumns:
		r, ok := byOID()
		if ok && r.Kind == RelationIndex {
			types := map[string]string{}
			for _, t := range rels {
				if t.Name == r.Table {
					for _, col := range t.Columns {
						types[col.Name] = col.Type
					}
				}
			}
			for _, name := range r.IndexColumns {
				col := RelationColumn{Name: name, Type: types[name]}
				row(func(item string) any { return indexColumnItem(item, col) })
			}
		} else if ok {
			for _, col := range r.Columns {
				row(func(item string) any { return columnItem(item, col) })
			}
		}
	case catalogIndex:
		if r, ok := byOID(); ok && r.Kind == RelationIndex {
			row(func(item string) any { return indexItem(item, r, true) })
		}
	case catalogIndexes:
		if r, ok := byOID(); ok {
			var idx []Relation
			for _, x := range rels {
				if x.Kind == RelationIndex && x.Table == r.Name {
					idx = append(idx, x)
				}
			}
			sort.SliceStable(idx, func(i, j int) bool { return idx[i].Primary && !idx[j].Primary })
			for _, x := range idx {
				row(func(item string) any { return indexItem(item, x, false) })
			}
		}
	case catalogForeignKeys:
		if r, ok := byOID(); ok {
			for _, fk := range r.ForeignKeys {
				row(func(item string) any { return foreignKeyItem(item, fk, r.Name) })
			}
		}
	case catalogReferencedBy:
		if r, ok := byOID(); ok {
			for _, t := range rels {
				for _, fk := range t.ForeignKeys {
					if fk.RefTable == r.Name {
						row(func(item string) any { return foreignKeyItem(item, fk, t.Name) })
					}
				}
			}
		}
	case catalogViewDef:
		if r, ok := byOID(); ok && r.Kind == RelationView {
			row(func(string) any { return " " + r.Definition + ";" })
		}
	case catalogRoles:
		// The one role there is: the session's user, which may do
		// everything.
		row(func(item string) any {
			switch {
			case item == "r.rolname":
				return user
			case item == "r.rolconnlimit":
				return "-1"
			case strings.HasPrefix(item, "array("):
				return "{}"
			case strings.HasPrefix(item, "r.rol") && item != "r.rolvaliduntil":
				return "t"
			}
			return nil
		})
	case catalogSchemas:
		row(func(item string) any {
			switch itemName(item) {
			case "name":
				return "public"
			case "owner":
				return user
			}
			return nil
		})
	case catalogDatabases:
		row(func(item string) any {
			switch itemName(item) {
			case "name":
				return c.database
			case "owner":
				return user
			case "encoding":
				return "UTF8"
			case "collate", "ctype":
				return "C"
			case "locale provider":
				return "libc"
			}
			return nil
		})
	}
	return res, nil
}

func referenced(rels []Relation, table string) bool {
	for _, r := range rels {
		for _, fk := range r.ForeignKeys {
			if fk.RefTable == table {
				return true
			}
		}
	}
	return false
}

// foreignKeyItem answers an item of the queries for a table's foreign keys
// and for those that reference it.
func foreignKeyItem(item string, fk ForeignKey, table string) any {
	switch {
	case strings.HasSuffix(item, " as sametable"):
		return "t"
	case item == "conname":
		return fk.Name
	case strings.HasPrefix(item, "pg_catalog.pg_get_constraintdef("):
		return fk.definition()
	case strings.HasPrefix(item, "conrelid::pg_catalog.regclass"):
		return table
	}
	return nil
}

func hasIndexes(rels []Relation, table string) bool {
	for _, r := range rels {
		if r.Kind == RelationIndex && r.Table == table {
			return true
		}
	}
	return false
}

func pgBool(b bool) string {
	if b {
		return "t"
	}
	return "f"
}

// relationItem answers an item of the relation list or lookup.
func relationItem(item string, r Relation, oid int64, user string) any {
	switch {
	case item == "c.oid":
		return strconv.FormatInt(oid, 10)
	case strings.HasPrefix(item, "n.nspname"):
		return "public"
	case strings.HasPrefix(item, "c.relname"):
		return r.Name
	case strings.HasPrefix(item, "case c.relkind"):
		switch r.Kind {
		case RelationTable:
			return "table"
		case RelationView:
			return "view"
		case RelationIndex:
			return "index"
		}
	case strings.Contains(item, "pg_get_userbyid"):
		return user
	case strings.HasPrefix(item, "c2.relname"):
		if r.Kind == RelationIndex {
			return r.Table
		}
	case strings.HasPrefix(item, "case c.relpersistence"):
		return "permanent"
	case strings.HasPrefix(item, "am.amname"):
		return accessMethod(r)
	}
	return nil
}

func accessMethod(r Relation) any {
	switch r.Kind {
	case RelationTable:
		return "heap"
	case RelationIndex:
		return "btree"
	}
	return nil
}

// relationFlag answers an item of the query for one relation's flags.
func relationFlag(item string, r Relation, hasIndex, hasForeignKeys bool) any {
	switch {
	case item == "c.relchecks":
		return "0"
	case item == "c.relkind":
		return string(r.Kind)
	case item == "c.relhasindex":
		return pgBool(hasIndex)
	case item == "c.relhastriggers":
		// psql asks for foreign keys only of a table with triggers, which
		// is how Postgres implements them.
		return pgBool(hasForeignKeys)
	case strings.HasPrefix(item, "c.relhas"), strings.HasPrefix(item, "c.relrowsecurity"),
		strings.HasPrefix(item, "c.relforcerowsecurity"), strings.HasPrefix(item, "c.relispartition"),
		strings.HasPrefix(item, "false"):
		return "f"
	case item == "''", strings.HasPrefix(item, "case when c.reloftype"), strings.Contains(item, "reloptions"):
		return ""
	case item == "c.reltablespace":
		return "0"
	case item == "c.relpersistence":
		return "p"
	case item == "c.relreplident":
		return "d"
	case item == "am.amname":
		return accessMethod(r)
	}
	return nil
}

// columnItem answers an item of the query for a relation's columns.
func columnItem(item string, col RelationColumn) any {
	switch {
	case item == "a.attname":
		return col.Name
	case strings.HasPrefix(item, "pg_catalog.format_type("):
		if col.Type == "" {
			return "text"
		}
		return strings.ToLower(col.Type)
	case strings.Contains(item, "pg_get_expr(d.adbin"):
		if col.Default == "" {
			return nil
		}
		return col.Default
	case item == "a.attnotnull":
		return pgBool(col.NotNull)
	case item == "a.attidentity", item == "a.attgenerated", strings.Contains(item, "attcompression"):
		return ""
	case item == "a.attstorage":
		return "x"
	}
	return nil
}

// indexColumnItem answers an item of the query for an index's columns.
func indexColumnItem(item string, col RelationColumn) any {
	switch {
	case strings.HasSuffix(item, " as is_key"):
		return "yes"
	case strings.HasSuffix(item, " as indexdef"):
		return col.Name
	}
	return columnItem(item, col)
}

// indexItem answers an item of the queries for a table's indexes and for
// one index; c2 is the index in the first and the table in the second.
func indexItem(item string, x Relation, c2IsTable bool) any {
	constraint := ""
	switch {
	case x.Primary:
		constraint = "p"
	case x.Unique && x.Constraint:
		constraint = "u"
	}
	switch {
	case item == "c2.relname":
		if c2IsTable {
			return x.Table
		}
		return x.Name
	case item == "i.indisprimary":
		return pgBool(x.Primary)
	case item == "i.indisunique":
		return pgBool(x.Unique || x.Primary)
	case item == "i.indisvalid":
		return "t"
	case item == "i.indisclustered", item == "i.indisreplident", item == "i.indnullsnotdistinct",
		strings.HasSuffix(item, " as condeferrable"), strings.HasSuffix(item, " as condeferred"):
		return "f"
	case item == "a.amname":
		return "btree"
	case strings.HasPrefix(item, "pg_catalog.pg_get_indexdef("):
		unique := ""
		if x.Unique || x.Primary {
			unique = "UNIQUE "
		}
		return fmt.Sprintf("CREATE %sINDEX %s ON %s USING btree (%s)", unique, x.Name, x.Table, strings.Join(x.IndexColumns, ", "))
	case strings.HasPrefix(item, "pg_catalog.pg_get_constraintdef("):
		switch constraint {
		case "p":
			return "PRIMARY KEY (" + strings.Join(x.IndexColumns, ", ") + ")"
		case "u":
			return "UNIQUE (" + strings.Join(x.IndexColumns, ", ") + ")"
		}
	case item == "contype":
		if constraint != "" {
			return constraint
		}
	case item == "condeferrable", item == "condeferred":
		if constraint != "" {
			return "f"
		}
	case item == "c2.reltablespace":
		return "0"
	}
	return nil
}

// asciiLower lower-cases the ASCII letters of s and leaves every other
// byte alone.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
