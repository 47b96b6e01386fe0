package server

import (
	"context"
	"errors"
	"strings"

	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/pgwire/pgsql"
	"github.com/raftsql/raftsql/pgwire/pgsql/catalog"
)

// A constraint violation reaches the client as Postgres reports it: the
// SQLSTATE, the message ORMs parse (duplicate key value violates unique
// constraint "t_pkey") and the fields drivers expose (schema, table,
// column, constraint). SQLite's message names the table and columns of a
// unique key or a NOT NULL column, a CHECK constraint's name or
// expression, and nothing of a foreign key; the constraint's name comes
// from the schema, read through the catalog's views (the front end's
// naming rule) on the node that answers the client, after the error. The
// apply result keeps SQLite's error as it is: that is the value every
// node records.

// violation is a constraint violation as pgError translates it without a
// schema. session.Execute names its constraint before the client sees it.
type violation struct {
	pe *pgwire.Error
	ce *command.Error
}

func (v *violation) Error() string { return v.pe.Message }
func (v *violation) Unwrap() error { return v.pe }

// isViolation reports whether e is a constraint violation this file
// translates.
func isViolation(e *command.Error) bool {
	switch e.Code {
	case constraintUnique, constraintPK, constraintRowID, constraintNotNull, constraintFK, constraintCheck:
		return true
	}
	return isDeferredFK(e)
}

// isDeferredFK reports the foreign key violation found at the end of a
// command or transaction, which SQLite reports with the primary code.
func isDeferredFK(e *command.Error) bool {
	return e.Code == sqliteConstraint && e.Message == "FOREIGN KEY constraint failed"
}

// schemaRows runs a catalog query on this node's copy; nil when it fails.
type schemaRows func(q catalog.Query) [][]any

// named is err with the constraint a violation names looked up in this
// node's schema; other errors are returned as they are.
func (s *session) named(ctx context.Context, st *pgsql.Statement, params []any, err error) error {
	var v *violation
	if !errors.As(err, &v) {
		return err
	}
	// The lookup is bounded as a read is; past the bound the client gets
	// the error without the name.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.n.cfg.ReadTimeout)
	defer cancel()
	// A write forwarded to the leader failed there, at its entry: this
	// node's schema is the leader's once it has applied that far (an
	// index another client just created, say). Past the bound, the name
	// is what this node's copy gives, or none.
	_ = s.n.waitIndex(ctx, s.writeIndex)
	look := schemaLookup(ctx, s.n.fsm)
	var verb, target string
	if st != nil {
		verb, target = st.Verb, st.Target()
	}
	pe, k := violationKey(v.ce, verb, target, look)
	if st != nil && k.enum {
		enumValue(pe, k, st, params)
	} else if st != nil {
		keyDetail(pe, k, st, params)
	}
	return pe
}

// schemaLookup runs catalog queries on f's read connections.
func schemaLookup(ctx context.Context, f *fsm.FSM) schemaRows {
	return func(q catalog.Query) [][]any {
		res, err := f.Query(ctx, []command.Statement{{SQL: q.SQL}})
		if err != nil || res.Err() != nil || len(res.Statements) != 1 {
			return nil
		}
		rows := make([][]any, len(res.Statements[0].Rows))
		for i, r := range res.Statements[0].Rows {
			rows[i] = make([]any, len(r))
			for j, x := range r {
				rows[i][j] = x.Any()
			}
		}
		return rows
	}
}

// violationError translates the constraint violation e of a statement
// whose verb is verb and which writes the table target ("" when not
// known). look reads the schema; nil, or rows not found, leaves out what
// only the schema tells (the constraint's name), keeping SQLite's message.
func violationError(e *command.Error, verb, target string, look schemaRows) *pgwire.Error {
	pe, _ := violationKey(e, verb, target, look)
	return pe
}

// violatedKey is the key of the constraint a violation names: its columns
// as the schema spells them; for a foreign key of the row written, the
// table it references; for a foreign key that references the row changed
// or deleted (the parent's columns), the table that references it.
type violatedKey struct {
	columns []string
	parent  string
	child   string
	table   []string // the columns of the table written, in order
	// enum: columns are those of the enum type whose CHECK failed
	// (enumvalue.go).
	enum bool
}

// violationKey is violationError, and the key of the constraint it names,
// if it names one.
func violationKey(e *command.Error, verb, target string, look schemaRows) (*pgwire.Error, violatedKey) {
	var key violatedKey
	if look == nil {
		look = func(catalog.Query) [][]any { return nil }
	}
	pe := &pgwire.Error{Code: sqlState(e), Message: e.Message}
	switch {
	case e.Code == constraintUnique || e.Code == constraintPK || e.Code == constraintRowID:
		rest, ok := strings.CutPrefix(e.Message, "UNIQUE constraint failed: ")
		if !ok {
			return pe, key
		}
		var rows [][]any
		var cols []string
		if idx, ok := strings.CutPrefix(rest, "index '"); ok {
			rows = look(catalog.IndexQuery(strings.TrimSuffix(idx, "'")))
		} else {
			var table string
			table, cols = splitColumns(rest)
			pe.Schema, pe.Table = "public", table
			rows = look(catalog.UniqueQuery(table, cols, e.Code != constraintUnique))
		}
		if len(rows) != 1 || len(rows[0]) != 3 {
			return pe, key
		}
		table, _ := rows[0][0].(string)
		name, _ := rows[0][1].(string)
		if name == "" {
			return pe, key
		}
		key.columns = cols
		if all, _ := rows[0][2].(string); all != "" {
			key.table = strings.Split(all, ", ")
		}
		pe.Message = "duplicate key value violates unique constraint " + quoted(name)
		pe.Schema, pe.Table, pe.Constraint = "public", table, name
	case e.Code == constraintNotNull:
		rest, ok := strings.CutPrefix(e.Message, "NOT NULL constraint failed: ")
		if !ok {
			return pe, key
		}
		table, col, ok := strings.Cut(rest, ".")
		if !ok {
			return pe, key
		}
		pe.Message = "null value in column " + quoted(col) + " of relation " + quoted(table) + " violates not-null constraint"
		pe.Schema, pe.Table, pe.Column = "public", table, col
	case e.Code == constraintCheck:
		failed, ok := strings.CutPrefix(e.Message, "CHECK constraint failed: ")
		if typ, isEnum := pgwire.EnumCheckType(failed); ok && isEnum {
			// A column of an enum type holds one of its labels.
			pe.Code, pe.Message = "22P02", "invalid input value for enum "+quoteIdentIfNeeded(typ)
			if target != "" {
				key = enumKey(typ, look(catalog.TableQuery(target)))
			}
			return pe, key
		}
		if !ok || target == "" {
			return pe, key
		}
		rows := look(catalog.TableQuery(target))
		if len(rows) == 0 || len(rows[0]) != 2 {
			return pe, key
		}
		table, _ := rows[0][0].(string)
		create, _ := rows[0][1].(string)
		var cols []string
		for _, r := range rows[1:] {
			if c, ok := r[0].(string); ok {
				cols = append(cols, c)
			}
		}
		name, ok := catalog.CheckName(table, create, cols, failed)
		if !ok {
			return pe, key
		}
		pe.Message = "new row for relation " + quoted(table) + " violates check constraint " + quoted(name)
		pe.Schema, pe.Table, pe.Constraint = "public", table, name
	case e.Code == constraintFK || isDeferredFK(e):
		pe.Code = "23503"
		if target != "" {
			// Only a statement that may change a parent row needs the
			// keys of other tables.
			referencing := verb != "INSERT"
			key = foreignKeyError(pe, verb, target, look(catalog.ForeignKeysQuery(target, referencing)))
		}
	}
	return pe, key
}

// foreignKeyError words pe for a foreign key of target that a statement
// (verb) violated. SQLite does not say which: it is the one key the
// statement could have violated — target's own keys for an INSERT, the
// keys that reference target and do not cascade for a DELETE, either for
// an UPDATE — and when there are several, the message names none.
func foreignKeyError(pe *pgwire.Error, verb, target string, rows [][]any) (key violatedKey) {
	type fk struct {
		child, name, parent, cols, refcols, all string
		referenced                              bool // the key references target: the statement changed a parent row
	}
	var candidates []fk
	var child, parent bool // whether target references others, or is referenced
	for _, r := range rows {
		if len(r) != 8 {
			return key
		}
		var k fk
		k.child, _ = r[0].(string)
		k.name, _ = r[1].(string)
		k.parent, _ = r[2].(string)
		onUpdate, _ := r[3].(string)
		onDelete, _ := r[4].(string)
		k.cols, _ = r[5].(string)
		k.refcols, _ = r[6].(string)
		k.all, _ = r[7].(string)
		restricts := func(action string) bool { return action == "NO ACTION" || action == "RESTRICT" }
		switch {
		case strings.EqualFold(k.child, target) && verb != "DELETE":
			child = true
			candidates = append(candidates, k)
		case strings.EqualFold(k.parent, target) && (verb == "DELETE" && restricts(onDelete) ||
			verb == "UPDATE" && restricts(onUpdate) || verb == "REPLACE" && restricts(onDelete)):
			parent = true
			k.referenced = true
			candidates = append(candidates, k)
		}
	}
	if len(candidates) == 1 {
		k := candidates[0]
		if k.referenced {
			pe.Message = "update or delete on table " + quoted(k.parent) + " violates foreign key constraint " +
				quoted(k.name) + " on table " + quoted(k.child)
			if k.refcols != "" {
				key = violatedKey{columns: strings.Split(k.refcols, ", "), child: k.child}
			}
		} else {
			pe.Message = "insert or update on table " + quoted(k.child) + " violates foreign key constraint " + quoted(k.name)
			if k.cols != "" {
				key = violatedKey{columns: strings.Split(k.cols, ", "), parent: k.parent}
				if k.all != "" {
					key.table = strings.Split(k.all, ", ")
				}
			}
		}
		pe.Schema, pe.Table, pe.Constraint = "public", k.child, k.name
		return key
	}
	switch {
	case child && !parent, verb == "INSERT":
		pe.Message = "insert or update on table " + quoted(target) + " violates a foreign key constraint"
		pe.Schema, pe.Table = "public", target
	case parent && !child, verb == "DELETE":
		pe.Message = "update or delete on table " + quoted(target) + " violates a foreign key constraint"
	}
	return key
}

// splitColumns splits what SQLite names of a unique key, "t.a, t.b", into
// the table and its columns.
func splitColumns(s string) (table string, cols []string) {
	for _, tc := range strings.Split(s, ", ") {
		t, c, ok := strings.Cut(tc, ".")
		if !ok {
			return "", nil
		}
		table = t
		cols = append(cols, c)
	}
	return table, cols
}

// quoted is a name in double quotes, as Postgres' messages show one (not
// escaped).
func quoted(name string) string { return `"` + name + `"` }
