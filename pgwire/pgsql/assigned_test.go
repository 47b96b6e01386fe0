package pgsql

import (
	"reflect"
	"testing"
)

// TestAssigned: the values an INSERT of one row or an UPDATE gives the
// columns of a key, for the DETAIL of a constraint violation.
func TestAssigned(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		cols []string
		want []Value // nil: not known
	}{
		{"INSERT INTO t VALUES (1, 'x', 3)", []string{"b", "A"}, []Value{{Literal: "x"}, {Literal: "1"}}},
		{"INSERT INTO t VALUES (1, 'x')", []string{"c"}, nil},
		{"INSERT INTO users (email, n) VALUES ('a@b.c', 1)", []string{"email"}, []Value{{Literal: "a@b.c"}}},
		{`insert into public."Users" ("Email", n) values ($2, -7) returning id`, []string{"email", "N"}, []Value{{Param: 2}, {Literal: "-7"}}},
		{"INSERT INTO t (a, b) VALUES (E'it''s', NULL) ON CONFLICT DO NOTHING", []string{"b", "a"}, []Value{{Null: true}, {Literal: "it's"}}},
		{"INSERT INTO t (a, b) VALUES ('x'::text, true)", []string{"a", "b"}, []Value{{Literal: "x"}, {Literal: "t"}}},
		{"INSERT INTO t (a) VALUES (1), (2)", []string{"a"}, nil},
		{"INSERT INTO t (a) VALUES (lower($1))", []string{"a"}, nil},
		{"INSERT INTO t (a) VALUES (1)", []string{"b"}, nil},
		{"INSERT INTO t VALUES (1)", []string{"a"}, nil},
		{"INSERT INTO t DEFAULT VALUES", []string{"a"}, nil},
		{"INSERT INTO t (a) SELECT 1", []string{"a"}, nil},
		{"UPDATE users SET email = $1, n = n + 1 WHERE id = $2", []string{"email"}, []Value{{Param: 1}}},
		{"UPDATE users u SET n = coalesce(n, 0), email = 'z' RETURNING id", []string{"email"}, []Value{{Literal: "z"}}},
		{"UPDATE users SET n = n + 1", []string{"n"}, nil},
		{"WITH x AS (SELECT 1) UPDATE ONLY y SET v = 3", []string{"v"}, []Value{{Literal: "3"}}},
		{"DELETE FROM users WHERE id = 1", []string{"id"}, nil},
	} {
		got, ok := Parse(tc.sql).Assigned(tc.cols, []string{"a", "b", "c"})
		if ok != (tc.want != nil) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %v: got %+v (%v), want %+v", tc.sql, tc.cols, got, ok, tc.want)
		}
	}
}

// TestMatched: the values the WHERE clause of an UPDATE or DELETE holds
// the columns of a key to.
func TestMatched(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		cols []string
		want []Value // nil: not known
	}{
		{"DELETE FROM users WHERE id = 1", []string{"id"}, []Value{{Literal: "1"}}},
		{`DELETE FROM "users" WHERE "users"."id" = $1`, []string{"id"}, []Value{{Param: 1}}},
		{"DELETE FROM p AS x WHERE x.a = 'k' AND b = -2 RETURNING *", []string{"b", "A"}, []Value{{Literal: "-2"}, {Literal: "k"}}},
		{"UPDATE users SET id = 5 WHERE id = 1", []string{"id"}, []Value{{Literal: "1"}}},
		{"UPDATE users u SET n = (n + 1) WHERE u.id = $2", []string{"id"}, []Value{{Param: 2}}},
		{"DELETE FROM users WHERE id = 1 OR id = 2", []string{"id"}, nil},
		{"DELETE FROM users WHERE id > 1", []string{"id"}, nil},
		{"DELETE FROM users WHERE id IN (1, 2)", []string{"id"}, nil},
		{"DELETE FROM users", []string{"id"}, nil},
		{"INSERT INTO users (id) VALUES (1)", []string{"id"}, nil},
	} {
		got, ok := Parse(tc.sql).Matched(tc.cols)
		if ok != (tc.want != nil) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %v: got %+v (%v), want %+v", tc.sql, tc.cols, got, ok, tc.want)
		}
	}
}
