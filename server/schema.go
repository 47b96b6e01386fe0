package server

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire"
)

// schemaQueries read the database's relations, their columns, their
// indexes and the indexes' columns, in one read at the session's
// consistency level. SQLite's own tables (sqlite_sequence, sqlite_stat1)
// are left out; the indexes SQLite creates for PRIMARY KEY and UNIQUE
// constraints are kept.
var schemaQueries = []command.Statement{
	{SQL: `SELECT type, name, tbl_name, sql FROM sqlite_schema
		WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
		ORDER BY name`},
	{SQL: `SELECT m.name, p.name, p.type, p."notnull", p.dflt_value, p.pk
		FROM sqlite_schema AS m, pragma_table_info(m.name) AS p
		WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
		ORDER BY m.name, p.cid`},
	{SQL: `SELECT m.name, l.name, l."unique", l.origin, i.name
		FROM sqlite_schema AS m, pragma_index_list(m.name) AS l, pragma_index_info(l.name) AS i
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
		ORDER BY m.name, l.name, i.seqno`},
	{SQL: `SELECT m.name, f.id, f."table", f."from", f."to", f.on_update, f.on_delete
		FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS f
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
		ORDER BY m.name, f.id, f.seq`},
	// The triggers that number a column (pgwire/serial.go names them
	// TABLE_COLUMN_seq).
	{SQL: `SELECT tbl_name, name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE '%\_seq' ESCAPE '\'`},
}

// Relations lists the tables, views and indexes of the database, for the
// describe commands of psql. Index names are given as Postgres would give
// them: the primary key's index is TABLE_pkey (also for a rowid alias,
// which has no index of its own in SQLite), a UNIQUE constraint's is
// TABLE_COLUMNS_key.
func (s *session) Relations(ctx context.Context) ([]pgwire.Relation, error) {
	res, err := s.n.Query(ctx, schemaQueries, s.level)
	if err != nil {
		return nil, pgError(err)
	}
	if err := res.Err(); err != nil {
		return nil, pgError(err)
	}
	if len(res.Statements) != len(schemaQueries) {
		return nil, fmt.Errorf("schema read returned %d results", len(res.Statements))
	}
	text := func(v command.Value) string {
		if v.IsNull() {
			return ""
		}
		return v.String()
	}
	var rels []pgwire.Relation
	tables := map[string]int{} // name → index in rels
	for _, row := range res.Statements[0].Rows {
		kind := pgwire.RelationTable
		if text(row[0]) == "view" {
			kind = pgwire.RelationView
		}
		tables[text(row[1])] = len(rels)
		rels = append(rels, pgwire.Relation{Name: text(row[1]), Kind: kind, Definition: viewQuery(text(row[3]))})
	}
	type keyColumn struct {
		order int64
		name  string
	}
	pk := map[string][]keyColumn{} // table → its primary key's columns
	for _, row := range res.Statements[1].Rows {
		i, ok := tables[text(row[0])]
		if !ok {
			continue
		}
		order, _ := row[5].Any().(int64)
		col := pgwire.RelationColumn{Name: text(row[1]), Type: text(row[2]), NotNull: text(row[3]) == "1" || order > 0, Default: text(row[4])}
		rels[i].Columns = append(rels[i].Columns, col)
		if order > 0 {
			pk[text(row[0])] = append(pk[text(row[0])], keyColumn{order, col.Name})
		}
	}
	// A column numbers itself when it is the rowid alias (the table's one
	// primary key column, declared INTEGER) or a trigger numbers it.
	seqTriggers := map[string]bool{}
	for _, row := range res.Statements[4].Rows {
		seqTriggers[strings.ToLower(text(row[1]))] = true
	}
	for i := range rels {
		r := &rels[i]
		keys := pk[r.Name]
		for j := range r.Columns {
			col := &r.Columns[j]
			col.Identity = seqTriggers[strings.ToLower(r.Name+"_"+col.Name+"_seq")] ||
				len(keys) == 1 && keys[0].name == col.Name && strings.EqualFold(col.Type, "INTEGER") && r.Kind == pgwire.RelationTable
		}
	}
	indexes := map[string]int{}
	for _, row := range res.Statements[2].Rows {
		table, name, origin := text(row[0]), text(row[1]), text(row[3])
		i, ok := indexes[name]
		if !ok {
			x := pgwire.Relation{Kind: pgwire.RelationIndex, Table: table, Name: name, Unique: text(row[2]) == "1"}
			switch origin {
			case "pk":
				x.Primary, x.Constraint, x.Name = true, true, table+"_pkey"
			case "u":
				x.Constraint = true
			}
			i = len(rels)
			indexes[name] = i
			rels = append(rels, x)
		}
		col := text(row[4])
		if col == "" {
			col = "expression"
		}
		rels[i].IndexColumns = append(rels[i].IndexColumns, col)
	}
	for i := range rels {
		x := &rels[i]
		if x.Kind == pgwire.RelationIndex && x.Constraint && !x.Primary && strings.HasPrefix(x.Name, "sqlite_autoindex_") {
			x.Name = x.Table + "_" + strings.Join(x.IndexColumns, "_") + "_key"
		}
	}
	// Foreign keys, named as Postgres names them: TABLE_COLUMNS_fkey.
	type fkKey struct {
		table string
		id    string
	}
	fkAt := map[fkKey]int{}
	for _, row := range res.Statements[3].Rows {
		i, ok := tables[text(row[0])]
		if !ok {
			continue
		}
		k := fkKey{text(row[0]), text(row[1])}
		j, ok := fkAt[k]
		if !ok {
			j = len(rels[i].ForeignKeys)
			fkAt[k] = j
			rels[i].ForeignKeys = append(rels[i].ForeignKeys, pgwire.ForeignKey{RefTable: text(row[2]), OnUpdate: text(row[5]), OnDelete: text(row[6])})
		}
		fk := &rels[i].ForeignKeys[j]
		fk.Columns = append(fk.Columns, text(row[3]))
		if to := text(row[4]); to != "" {
			fk.RefColumns = append(fk.RefColumns, to)
		}
	}
	for i := range rels {
		for j := range rels[i].ForeignKeys {
			fk := &rels[i].ForeignKeys[j]
			fk.Name = rels[i].Name + "_" + strings.Join(fk.Columns, "_") + "_fkey"
		}
	}
	for table, cols := range pk {
		if hasPrimary(rels, table) {
			continue
		}
		sort.Slice(cols, func(a, b int) bool { return cols[a].order < cols[b].order })
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.name
		}
		rels = append(rels, pgwire.Relation{Kind: pgwire.RelationIndex, Table: table, Name: table + "_pkey",
			IndexColumns: names, Unique: true, Primary: true, Constraint: true})
	}
	return rels, nil
}

func hasPrimary(rels []pgwire.Relation, table string) bool {
	for _, r := range rels {
		if r.Kind == pgwire.RelationIndex && r.Table == table && r.Primary {
			return true
		}
	}
	return false
}

// viewQuery is the query of a CREATE VIEW statement: what follows its
// first AS (a view's name and column list cannot hold the word unquoted).
func viewQuery(create string) string {
	up := strings.ToUpper(create)
	for i := 0; i+4 <= len(up); i++ {
		if up[i:i+2] == "AS" && (i == 0 || strings.ContainsRune(" \t\n)", rune(up[i-1]))) && strings.ContainsRune(" \t\n(", rune(up[i+2])) {
			return strings.TrimSpace(create[i+2:])
		}
	}
	return ""
}
