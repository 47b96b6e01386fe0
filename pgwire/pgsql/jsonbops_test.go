package pgsql

import (
	"database/sql"
	"strings"
	"testing"
)

// TestJSONBOperators runs @>, <@, ?, ?| and ?& as translated on SQLite,
// with the answers PostgreSQL gives (its documentation's examples among
// them).
func TestJSONBOperators(t *testing.T) {
	db := openSQLite(t)
	for _, tt := range []struct {
		expr string
		want sql.NullBool
	}{
		{`'{"a":1, "b":2}' @> '{"b":2}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"b":2}' <@ '{"a":1, "b":2}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"a":1}' @> '{"a":1, "b":2}'`, sql.NullBool{Valid: true}},
		{`'{"a":{"b":[1,2,3]}}' @> '{"a":{"b":[3,1]}}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"a":[1,2]}' @> '{"a":1}'`, sql.NullBool{Valid: true}},   // a scalar in an array only at the top
		{`'[1, 2, [1, 3]]' @> '[1, 3]'`, sql.NullBool{Valid: true}}, // 3 is not an element
		{`'[1, 2, [1, 3]]' @> '[[1, 3]]'`, sql.NullBool{Bool: true, Valid: true}},
		{`'["foo", "bar"]' @> '"foo"'`, sql.NullBool{Bool: true, Valid: true}},
		{`'"foo"' @> '"foo"'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"n": 1.0}' @> '{"n": 1}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"n": "1"}' @> '{"n": 1}'`, sql.NullBool{Valid: true}},
		{`'{"a":null}' @> '{"a":null}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'[]' @> '[]'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"a":1}' @> NULL`, sql.NullBool{}},
		{`'{"a":1, "b":2}' ? 'b'`, sql.NullBool{Bool: true, Valid: true}},
		{`'["a", "b", "c"]' ? 'b'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"a":{"b":1}}' ? 'b'`, sql.NullBool{Valid: true}},
		{`'[1, 2]' ? '1'`, sql.NullBool{Valid: true}}, // a string key, not a number
		{`'"k"' ? 'k'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"a":1, "b":2, "c":3}' ?| '{b,d}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"a":1}' ?| '{b,d}'`, sql.NullBool{Valid: true}},
		{`'["a", "b", "c"]' ?& '{a,b}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'["a", "b", "c"]' ?& '{a,d}'`, sql.NullBool{Valid: true}},
		{`'{"a":1}' ?& '{}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"a":1}' ?| '{}'`, sql.NullBool{Valid: true}},
		{`'{"a":{"k":1}}' -> 'a' ? 'k'`, sql.NullBool{Bool: true, Valid: true}},
	} {
		st := Parse("SELECT " + tt.expr)
		if st.Err != nil {
			t.Fatalf("%s: %v", tt.expr, st.Err)
		}
		var got sql.NullBool
		if err := db.QueryRow(st.SQLite("")).Scan(&got); err != nil {
			t.Fatalf("%s (%s): %v", tt.expr, st.SQL, err)
		}
		if got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.expr, got, tt.want)
		}
	}
	st := Parse(`SELECT '{bad' @> '{}'`)
	if err := db.QueryRow(st.SQLite("")).Scan(new(sql.NullBool)); err == nil || !strings.Contains(err.Error(), "invalid input syntax for type json") {
		t.Errorf("malformed JSON: %v", err)
	}
}
