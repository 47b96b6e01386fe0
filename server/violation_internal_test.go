package server

import (
	"strings"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/pgwire/pgsql"
	"github.com/raftsql/raftsql/pgwire/pgsql/catalog"
)

// TestViolationWithoutSchema: what SQLite's message alone tells, when the
// schema has nothing to add (a table the transaction created, a trigger's
// statement, the end of a transaction).
func TestViolationWithoutSchema(t *testing.T) {
	for _, tc := range []struct {
		e                              *command.Error
		verb, target                   string
		code, msg, table, column, name string
	}{
		{&command.Error{Code: constraintUnique, Message: "UNIQUE constraint failed: t.a, t.b"}, "INSERT", "t",
			"23505", "UNIQUE constraint failed: t.a, t.b", "t", "", ""},
		{&command.Error{Code: constraintNotNull, Message: "NOT NULL constraint failed: t.x"}, "", "",
			"23502", `null value in column "x" of relation "t" violates not-null constraint`, "t", "x", ""},
		{&command.Error{Code: constraintCheck, Message: "CHECK constraint failed: x > 0"}, "INSERT", "t",
			"23514", "CHECK constraint failed: x > 0", "", "", ""},
		{&command.Error{Code: constraintCheck, Message: "CHECK constraint failed: raftsql_enum:mood"}, "INSERT", "t",
			"22P02", "invalid input value for enum mood", "", "", ""},
		{&command.Error{Code: constraintCheck, Message: "CHECK constraint failed: raftsql_enum:Role"}, "INSERT", "t",
			"22P02", `invalid input value for enum "Role"`, "", "", ""},
		{&command.Error{Code: constraintFK, Message: "FOREIGN KEY constraint failed"}, "INSERT", "t",
			"23503", `insert or update on table "t" violates a foreign key constraint`, "t", "", ""},
		{&command.Error{Code: sqliteConstraint, Message: "FOREIGN KEY constraint failed"}, "COMMIT", "",
			"23503", "FOREIGN KEY constraint failed", "", "", ""},
	} {
		pe := violationError(tc.e, tc.verb, tc.target, nil)
		got := [...]string{pe.Code, pe.Message, pe.Table, pe.Column, pe.Constraint}
		want := [...]string{tc.code, tc.msg, tc.table, tc.column, tc.name}
		if got != want {
			t.Errorf("%v: got %q, want %q", tc.e.Message, got, want)
		}
	}
}

// TestForeignKeyCandidates: the foreign key a statement violated is the
// only one it could have; when there are several, none is named.
func TestForeignKeyCandidates(t *testing.T) {
	fk := func(child, name, parent, onUpdate, onDelete string) []any {
		return []any{child, name, parent, onUpdate, onDelete, name[len(child)+1 : len(name)-len("_fkey")], "id", "id, a, b"}
	}
	keys := [][]any{
		fk("c", "c_pid_fkey", "p", "NO ACTION", "NO ACTION"),
		fk("d", "d_pid_fkey", "p", "NO ACTION", "CASCADE"),
		fk("e", "e_a_fkey", "p", "CASCADE", "NO ACTION"),
		fk("e", "e_b_fkey", "q", "NO ACTION", "NO ACTION"),
	}
	look := func(q catalog.Query) [][]any {
		var out [][]any
		for _, k := range keys {
			if strings.Contains(q.SQL, "'"+k[0].(string)+"'") || strings.Contains(q.SQL, "'"+k[2].(string)+"'") {
				out = append(out, k)
			}
		}
		return out
	}
	e := &command.Error{Code: constraintFK, Message: "FOREIGN KEY constraint failed"}
	for _, tc := range []struct {
		verb, target, msg, table, name string
	}{
		{"INSERT", "c", `insert or update on table "c" violates foreign key constraint "c_pid_fkey"`, "c", "c_pid_fkey"},
		{"UPDATE", "c", `insert or update on table "c" violates foreign key constraint "c_pid_fkey"`, "c", "c_pid_fkey"},
		{"INSERT", "e", `insert or update on table "e" violates a foreign key constraint`, "e", ""},
		// d cascades and e restricts the delete; c and e restrict it.
		{"DELETE", "p", `update or delete on table "p" violates a foreign key constraint`, "", ""},
		{"DELETE", "q", `update or delete on table "q" violates foreign key constraint "e_b_fkey" on table "e"`, "e", "e_b_fkey"},
		// e cascades an update of p's key; c and d restrict it.
		{"UPDATE", "p", `update or delete on table "p" violates a foreign key constraint`, "", ""},
	} {
		pe, key := violationKey(e, tc.verb, tc.target, look)
		switch {
		case tc.name == "":
			if key.columns != nil {
				t.Errorf("%s %s: key %+v, want none", tc.verb, tc.target, key)
			}
		case tc.verb == "DELETE":
			if key.child != tc.table || key.parent != "" || strings.Join(key.columns, ",") != "id" {
				t.Errorf("%s %s: key %+v, want the referenced id", tc.verb, tc.target, key)
			}
		case key.parent != "p" || key.child != "" || strings.Join(key.columns, ",") != "pid":
			t.Errorf("%s %s: key %+v, want the referencing pid", tc.verb, tc.target, key)
		}
		got := [...]string{pe.Code, pe.Message, pe.Table, pe.Constraint}
		want := [...]string{"23503", tc.msg, tc.table, tc.name}
		if got != want {
			t.Errorf("%s %s: got %q, want %q", tc.verb, tc.target, got, want)
		}
	}
}

// TestSessionAnswerCarriesObjectFields: a relayed block's error keeps the
// fields that name the object, and the answer of a leader that sends only
// the first five fields still decodes.
func TestSessionAnswerCarriesObjectFields(t *testing.T) {
	in := &pgwire.Error{Code: "23505", Message: `duplicate key value violates unique constraint "t_pkey"`,
		Schema: "public", Table: "t", Column: "", Constraint: "t_pkey"}
	_, _, out, err := decodeSessionAnswer(encodeSessionAnswer('E', nil, in))
	if err != nil || out == nil || *out != *in {
		t.Fatalf("decoded %+v, %v; want %+v", out, err, in)
	}
	old := []byte{'E', 1}
	for _, f := range []string{"23505", "dup", "", "", ""} {
		old = appendString(old, f)
	}
	_, _, out, err = decodeSessionAnswer(old)
	if err != nil || out == nil || out.Code != "23505" || out.Message != "dup" || out.Table != "" {
		t.Fatalf("a five-field answer decoded as %+v, %v", out, err)
	}
}

// TestKeyDetail: the DETAIL of a violation shows the key's values as the
// statement gave them, literals or parameters, and nothing when it does
// not show them all.
func TestKeyDetail(t *testing.T) {
	unique := violatedKey{columns: []string{"email"}}
	pair := violatedKey{columns: []string{"a", "B"}}
	fk := violatedKey{columns: []string{"user_id"}, parent: "users"}
	for _, tc := range []struct {
		sql    string
		params []any
		key    violatedKey
		want   string
	}{
		{"INSERT INTO users (email) VALUES ('a@b.c')", nil, unique, "Key (email)=(a@b.c) already exists."},
		{"INSERT INTO users (id, email) VALUES ($1, $2)", []any{int64(1), "x@y"}, unique, "Key (email)=(x@y) already exists."},
		{`INSERT INTO pair (a, "B") VALUES (1, $1)`, []any{true}, pair, `Key (a, "B")=(1, t) already exists.`},
		{"INSERT INTO orders (user_id) VALUES (7)", nil, fk, `Key (user_id)=(7) is not present in table "users".`},
		{"UPDATE orders SET user_id = $1", []any{int64(8)}, fk, `Key (user_id)=(8) is not present in table "users".`},
		{"INSERT INTO users (email) VALUES (lower('A'))", nil, unique, ""},
		{"INSERT INTO users (email) VALUES ($1)", []any{nil}, unique, ""},
		{"INSERT INTO users (email) VALUES ($2)", []any{"a"}, unique, ""},
		{"INSERT INTO users (email) VALUES ('a')", nil, violatedKey{}, ""},
		{"INSERT INTO pair VALUES (2, 'x', 3)", nil, violatedKey{columns: []string{"a", "B"}, table: []string{"id", "B", "a"}},
			`Key (a, "B")=(3, x) already exists.`},
		{`DELETE FROM "users" WHERE "users"."id" = $1`, []any{int64(3)}, violatedKey{columns: []string{"id"}, child: "orders"},
			`Key (id)=(3) is still referenced from table "orders".`},
		{"DELETE FROM users WHERE id > 3", nil, violatedKey{columns: []string{"id"}, child: "orders"}, ""},
	} {
		pe := &pgwire.Error{}
		keyDetail(pe, tc.key, pgsql.Parse(tc.sql), tc.params)
		if pe.Detail != tc.want {
			t.Errorf("%s %v: detail %q, want %q", tc.sql, tc.params, pe.Detail, tc.want)
		}
	}
}
